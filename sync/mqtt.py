"""A message bus on MQTT 5 (paho-mqtt), for any site whose devices talk through a local broker.

    bus = Bus("mqtt://127.0.0.1:1883", client_id="C7QX4-butler-1", on_message=handle,
              will=("site/presence/C7QX4", {"state": "offline"}))
    bus.subscribe("site/room/+")
    bus.start()                       # connects in the background and keeps reconnecting
    bus.publish("site/room/8", {"…": 1}, expiry=3600)

* One persistent session per client id: ``clean_start`` is false and the session outlives a
  dropped connection by ``session_expiry`` seconds, so QoS 1 messages for a device that is away
  wait in the broker (until their message expiry).
* QoS 1 by default. paho keeps unacknowledged outgoing messages and sends them again on
  reconnect; what must survive a process restart is the caller's business (its store).
* The Last Will (``will``) is published retained by the broker when the connection dies without a
  DISCONNECT; ``online`` (if given) is published retained on every connect, so the presence topic
  always says the latest.
* ``mqtt://user:password@host`` logs in (a broker with a password file); the password is never
  logged (log lines name the host and port only).
* Subscriptions are remembered and made again on every connect (a broker that lost its sessions,
  e.g. restarted without persistence, still delivers). Shared subscriptions are plain filters:
  ``$share/<group>/<filter>``.
* ``on_message(topic, body, message)`` runs on paho's network thread with the decoded JSON body;
  it must not block. ``on_connect(session_present)`` likewise.

It knows nothing of any site: topics and bodies are the caller's.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Callable
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

__all__ = ["Bus", "parse_url"]

log = logging.getLogger(__name__)


def parse_url(url: str) -> tuple[str, int]:
    """``mqtt://[user:password@]host:port`` -> (host, port); the port defaults to 1883."""
    host, port, _user, _password = _parts(url)
    return host, port


def _parts(url: str) -> tuple[str, int, str | None, str | None]:
    parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    if parts.scheme != "mqtt" or not parts.hostname:
        raise ValueError("bad broker URL: expected mqtt://[user:password@]host[:port]")
    return parts.hostname, parts.port or 1883, unquote(parts.username) if parts.username else None, \
        unquote(parts.password) if parts.password else None


def _body(payload) -> bytes:
    if isinstance(payload, (bytes, bytearray)):
        return bytes(payload)
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


class Bus:
    def __init__(self, url: str, client_id: str, *, on_message: Callable | None = None,
                 on_connect: Callable[[bool], None] | None = None, will: tuple[str, object] | None = None,
                 online: tuple[str, object] | None = None, session_expiry: int = 24 * 3600, keepalive: int = 5):
        self.host, self.port, user, password = _parts(url)
        self.client_id = client_id
        self.on_message = on_message
        self.on_connect = on_connect
        self.online = online
        self.session_expiry = session_expiry
        self.keepalive = keepalive
        self.connected = threading.Event()
        self.refused = ""                       # the broker's reason when it refused the connection
        self._filters: dict[str, int] = {}
        self._lock = threading.Lock()
        c = self.client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                      protocol=mqtt.MQTTv5)
        c.max_inflight_messages_set(100)
        c.max_queued_messages_set(0)                   # unlimited while disconnected
        c.reconnect_delay_set(min_delay=0.2, max_delay=2)
        if user is not None:
            c.username_pw_set(user, password)
        if will is not None:
            c.will_set(will[0], _body(will[1]), qos=1, retain=True)
        c.on_connect = self._connected
        c.on_disconnect = self._disconnected
        c.on_message = self._message

    # -- life ---------------------------------------------------------------------------
    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.session_expiry
        self.client.connect_async(self.host, self.port, keepalive=self.keepalive, clean_start=False,
                                  properties=props)
        self.client.loop_start()

    def wait_connected(self, timeout: float = 10.0) -> bool:
        return self.connected.wait(timeout)

    def stop(self, clean: bool = True) -> None:
        """Disconnect. ``clean`` sends DISCONNECT (no will); ``clean=False`` drops the socket the way
        a device that loses power does, and the broker publishes the will."""
        if clean:
            self.client.disconnect()
            self.client.loop_stop()
        else:
            self.client.loop_stop()                    # no more pings or reconnects, then the socket goes
            sock = self.client.socket()
            if sock is not None:
                try:
                    sock.close()
                except OSError:
                    pass
        self.connected.clear()

    # -- traffic ------------------------------------------------------------------------
    def subscribe(self, topic_filter: str, qos: int = 1) -> None:
        with self._lock:
            self._filters[topic_filter] = qos
        if self.connected.is_set():
            self.client.subscribe(topic_filter, qos=qos)

    def publish(self, topic: str, payload, *, qos: int = 1, retain: bool = False, expiry: int | None = None,
                response_topic: str | None = None, correlation: bytes | None = None) -> mqtt.MQTTMessageInfo:
        props = None
        if expiry is not None or response_topic or correlation:
            props = Properties(PacketTypes.PUBLISH)
            if expiry is not None:
                props.MessageExpiryInterval = int(expiry)
            if response_topic:
                props.ResponseTopic = response_topic
            if correlation:
                props.CorrelationData = correlation
        info = self.client.publish(topic, _body(payload), qos=qos, retain=retain, properties=props)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN, mqtt.MQTT_ERR_QUEUE_SIZE):
            log.warning("mqtt %s: publish to %s failed: %s", self.client_id, topic, mqtt.error_string(info.rc))
        return info

    # -- paho callbacks (network thread) ------------------------------------------------
    def _connected(self, client, _userdata, flags, reason_code, _props):
        if reason_code.is_failure:
            self.refused = str(reason_code)
            log.warning("mqtt %s: broker %s:%s refused the connection: %s", self.client_id, self.host, self.port,
                        reason_code)
            return
        self.refused = ""
        with self._lock:
            filters = list(self._filters.items())
        if filters:
            client.subscribe([(f, mqtt.SubscribeOptions(qos=q)) for f, q in filters])
        if self.online is not None:
            client.publish(self.online[0], _body(self.online[1]), qos=1, retain=True)
        self.connected.set()
        log.info("mqtt %s: connected to %s:%s (session present: %s)", self.client_id, self.host, self.port,
                 flags.session_present)
        if self.on_connect is not None:
            self.on_connect(bool(flags.session_present))

    def _disconnected(self, _client, _userdata, _flags, reason_code, _props):
        self.connected.clear()
        log.info("mqtt %s: disconnected from %s:%s (%s)", self.client_id, self.host, self.port, reason_code)

    def _message(self, _client, _userdata, msg):
        if self.on_message is None:
            return
        try:
            body = json.loads(msg.payload.decode("utf-8")) if msg.payload else {}
        except (UnicodeDecodeError, ValueError):
            log.warning("mqtt %s: dropped a message on %s that is not UTF-8 JSON", self.client_id, msg.topic)
            return
        try:
            self.on_message(msg.topic, body, msg)
        except Exception:                                   # noqa: BLE001 - one bad message must not kill the loop
            log.exception("mqtt %s: handler failed for a message on %s", self.client_id, msg.topic)

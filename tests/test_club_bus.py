"""The generic MQTT bus (sync/mqtt.py) against Mosquitto's own clients (mosquitto_pub and
mosquitto_sub: code we did not write) and a broker with a password file."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading

import pytest

from sync.mqtt import Bus, parse_url
from tests.club_support import Mosquitto, site_name, wait_for

pytestmark = pytest.mark.skipif(not shutil.which("mosquitto_pub"), reason="mosquitto clients not installed")


def test_parse_url():
    assert parse_url("mqtt://127.0.0.1") == ("127.0.0.1", 1883)
    assert parse_url("mqtt://u:p%40ss@box.local:1884") == ("box.local", 1884)
    with pytest.raises(ValueError) as e:
        parse_url("http://u:secret@x")
    assert "secret" not in str(e.value)


def test_a_message_from_mosquitto_pub_reaches_the_bus_and_ours_reaches_mosquitto_sub(tmp_path):
    broker = Mosquitto(tmp_path / "b").start()
    topic = f"{site_name()}/t"
    got = []
    bus = Bus(broker.url, "bus-peer", on_message=lambda t, body, msg: got.append((t, body, msg.qos)))
    bus.subscribe(topic + "/in")
    bus.start()
    try:
        assert bus.wait_connected(10)
        wait_for(lambda: subprocess.run(["mosquitto_pub", "-p", str(broker.port), "-V", "5", "-q", "1",
                                         "-t", topic + "/in", "-m", json.dumps({"n": 1, "room": "8号"})],
                                        capture_output=True).returncode == 0 and got, what="the peer's message")
        assert got[0] == (topic + "/in", {"n": 1, "room": "8号"}, 1)
        sub = subprocess.Popen(["mosquitto_sub", "-p", str(broker.port), "-V", "5", "-q", "1", "-t", topic + "/out",
                                "-C", "1", "-F", "%q %p"], stdout=subprocess.PIPE, text=True)
        out: list[str] = []
        reader = threading.Thread(target=lambda: out.append(sub.stdout.read()), daemon=True)
        reader.start()
        wait_for(lambda: (bus.publish(topic + "/out", {"call": "wine"}, expiry=60), sub.poll() is not None)[1],
                 timeout=20, what="mosquitto_sub to get our message")
        reader.join(5)
        qos, _, payload = out[0].strip().partition(" ")
        assert qos == "1" and json.loads(payload) == {"call": "wine"}
    finally:
        bus.stop()
        broker.stop()


def test_a_broker_with_passwords_takes_the_right_one_and_refuses_the_wrong_one(tmp_path):
    broker = Mosquitto(tmp_path / "b", users={"box": "s3cret"}).start()
    good = Bus(f"mqtt://box:s3cret@127.0.0.1:{broker.port}", "bus-good")
    bad = Bus(f"mqtt://box:wrong@127.0.0.1:{broker.port}", "bus-bad")
    anon = Bus(broker.url, "bus-anon")
    for b in (good, bad, anon):
        b.start()
    try:
        assert good.wait_connected(10)
        wait_for(lambda: bad.refused and anon.refused, what="the refusals")
        assert not bad.connected.is_set() and not anon.connected.is_set()
        assert "authori" in bad.refused.lower() or "password" in bad.refused.lower()
    finally:
        for b in (good, bad, anon):
            b.stop(clean=False)
        broker.stop()

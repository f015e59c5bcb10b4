#!/usr/bin/env bash
# Start the services the tests talk to, if this machine has them and they are not running.
# PostgreSQL: the central-server tests use 127.0.0.1:5432. Mosquitto: the club tests use 127.0.0.1:1883.
set -uo pipefail
if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    for v in $(ls /etc/postgresql 2>/dev/null); do
      pg_ctlcluster --skip-systemctl-redirect "$v" main start 2>/dev/null || true
    done
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
  fi
fi
# Mosquitto: the club's role-call tests and bench use 127.0.0.1:1883.
if command -v mosquitto >/dev/null 2>&1 && ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
  if [ -f /etc/mosquitto/mosquitto.conf ]; then
    mosquitto -d -c /etc/mosquitto/mosquitto.conf 2>/dev/null || true
  else
    mosquitto -d -p 1883 2>/dev/null || true
  fi
  for _ in $(seq 1 20); do (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null && break; sleep 0.25; done
fi
exit 0

"""Helpers of ``bench_sync.py``'s pull fan-in, each run as a process of its own:

* ``client HOST PORT FILE``: the kiosks. FILE holds one raw HTTP request per kiosk (already signed).
  It opens every connection first, waits until the server has accepted them, then sends all the
  requests at once from one asyncio loop and reads each answer to its last byte. It prints JSON:
  each request's latency (send to last byte), the statuses, and its own CPU seconds over the timed
  part, so the lead can see that the client is not what limits the figure.
* ``static BODYFILE WORKERS``: the baseline server. A bare ASGI app that answers every request with
  the bytes of BODYFILE (a real pull's answer), on uvicorn with the same options, the same number of
  worker processes on one socket and the same socket setup (``sync.server.run.bind``) as
  ``onestop server``. It prints ``listening on http://HOST:PORT``.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


async def _one(reader, writer, request: bytes, start: asyncio.Event, out: list):
    await start.wait()
    t0 = time.perf_counter()
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    out.append((time.perf_counter() - t0, status))
    writer.close()


async def _client(host: str, port: int, requests: list[bytes]) -> dict:
    conns = [await asyncio.open_connection(host, port) for _ in requests]
    await asyncio.sleep(1.0)                     # the server accepts them all before the clock starts
    start, out = asyncio.Event(), []
    tasks = [asyncio.ensure_future(_one(r, w, req, start, out)) for (r, w), req in zip(conns, requests)]
    await asyncio.sleep(0)
    c0, t0 = _cpu(), time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    return {"latency": [d for d, _s in out], "status": [s for _d, s in out], "wall": wall, "client_cpu": cpu}


def client(host: str, port: int, path: str) -> None:
    requests = [r.encode("latin-1") for r in json.loads(Path(path).read_text())]
    print(json.dumps(asyncio.run(_client(host, port, requests))))


def static(body_path: str, workers: int) -> None:
    import uvicorn

    from sync.server.run import _die_with_parent, bind

    body = Path(body_path).read_bytes()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    sock = bind("127.0.0.1", 0)
    print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    for _ in range(max(1, workers) - 1):
        if os.fork() == 0:
            try:
                _die_with_parent()
                _serve(uvicorn, app, sock)
            finally:
                os._exit(0)
    _serve(uvicorn, app, sock)


def _serve(uvicorn, app, sock) -> None:
    # the options of sync.server.run._run
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_keep_alive=5, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    if sys.argv[1] == "client":
        client(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        static(sys.argv[2], int(sys.argv[3]))

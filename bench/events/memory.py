"""What an open event stream costs the web process in memory (``--scenario memory``).

    .venv/bin/python -m bench.events --scenario memory [--streams 1000]

One ASGI process (``gunicorn config.asgi -k uvicorn_worker.UvicornWorker -w 1``, as the other
scenarios) and N running jobs. After a few hundred plain requests, with no stream open, the
bench reads the worker's RSS and thread count; it opens N streams of the N jobs (one each, 50
connecting at a time), waits until each has read its opening frames, reads them again, and
closes the streams. The cost of one stream is the difference divided by N. Three rounds: the
first on a process that never held a stream (what the allocator keeps after it counts too),
then two on a process that already did. See bench/README.md.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

from bench import harness

CONNECT_BATCH = 50
# Long enough for the streams' opening reads to end and the process to settle.
SETTLE_SECONDS = 3.0


class OpenStreams:
    """N event streams held open by one asyncio loop in a thread of the bench process; each
    counts as open once it has read its first frame."""

    def __init__(self, port: int, key: str, paths: list[str]):
        self.port, self.key, self.paths = port, key, paths
        self.opened = 0
        self.failed: list[str] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.tasks: list[asyncio.Task] = []

    def open_all(self, timeout: float = 60.0) -> None:
        for start in range(0, len(self.paths), CONNECT_BATCH):
            batch = self.paths[start : start + CONNECT_BATCH]
            asyncio.run_coroutine_threadsafe(self._spawn(batch), self.loop).result(10)
            deadline = time.monotonic() + timeout
            while self.opened + len(self.failed) < start + len(batch) and time.monotonic() < deadline:
                time.sleep(0.01)

    async def _spawn(self, paths: list[str]) -> None:
        self.tasks.extend(asyncio.ensure_future(self._hold(path)) for path in paths)

    async def _hold(self, path: str) -> None:
        writer = None
        try:
            reader, writer, _ = await harness.event_stream_open(self.port, path, self.key)
            await reader.readuntil(b"\n\n")
            self.opened += 1
            while await reader.read(65536):
                pass
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - counted and reported
            self.failed.append(str(exc) if isinstance(exc, RuntimeError) else type(exc).__name__)
        finally:
            if writer is not None:
                writer.close()

    def close(self) -> None:
        """Closes every stream, and waits until the server has seen them go."""
        harness.loop_tasks_stop(self.loop, self.tasks, self.thread)


def _worker_pid(web: harness.Process) -> int:
    workers = harness.children(web.pid)
    if len(workers) != 1:
        raise RuntimeError(f"expected one gunicorn worker, found {workers}")
    return workers[0]


def _threads(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


def _plain_requests(port: int, key: str, count: int = 200) -> None:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for path in ("/bench/bare", "/api/generate?limit=5"):
        for _ in range(count):
            connection.request("GET", path, headers={"Authorization": f"Bearer {key}"})
            connection.getresponse().read()
    connection.close()


def _sample(pid: int) -> tuple[float, int]:
    time.sleep(SETTLE_SECONDS)
    return harness.rss_mb(pid), _threads(pid)


def run(*, streams: int, jobs: list[str], env: dict, key: str, web_args: Callable[[int], list[str]]) -> list[dict]:
    """Rounds of N streams opened on one ASGI process: RSS and threads with none and with N."""
    port = harness.free_port()
    web_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.events.settings"}
    paths = [f"/api/generate/{g}/events" for g in jobs[:streams]]
    rounds = []
    with harness.running(("web-memory", web_args(port), web_env)) as (web,):
        harness.wait_http(web, port, "/bench/bare", key)
        pid = _worker_pid(web)
        _plain_requests(port, key)
        for number in (1, 2, 3):
            rss_none, threads_none = _sample(pid)
            held = OpenStreams(port, key, paths)
            try:
                held.open_all()
                rss_open, threads_open = _sample(pid)
            finally:
                held.close()
            rounds.append(
                {
                    "round": number,
                    "streams": streams,
                    "opened": held.opened,
                    "failed": len(held.failed),
                    "rss_none_mb": rss_none,
                    "rss_open_mb": rss_open,
                    "kb_per_stream": (rss_open - rss_none) * 1024 / max(held.opened, 1),
                    "threads_none": threads_none,
                    "threads_open": threads_open,
                }
            )
            print(_line(rounds[-1]), flush=True)
    return rounds


def _line(r: dict) -> str:
    return (
        f"round {r['round']}: {r['opened']}/{r['streams']} streams open ({r['failed']} failed), "
        f"worker RSS {r['rss_none_mb']:.1f} -> {r['rss_open_mb']:.1f} MB = {r['kb_per_stream']:.1f} KB per stream, "
        f"threads {r['threads_none']} -> {r['threads_open']}"
    )


def print_table(rounds: list[dict]) -> None:
    print("\n| round | streams open | worker RSS, none open | with N open | per stream | threads, none → N |")
    print("| ---: | ---: | ---: | ---: | ---: | --- |")
    for r in rounds:
        print(
            f"| {r['round']} | {r['opened']} | {r['rss_none_mb']:.1f} MB | {r['rss_open_mb']:.1f} MB | "
            f"{r['kb_per_stream']:.1f} KB | {r['threads_none']} → {r['threads_open']} |"
        )
    worst = max(r["kb_per_stream"] for r in rounds)
    print(f"\ngoal (<= 50 KB per open stream): {'met' if worst <= 50 else 'MISSED'} ({worst:.1f} KB at most)")

"""64 users submit one fal generation each, at once, to a fake fal whose jobs take 2 s.

    .venv/bin/python -m bench.concurrency [--users 64] [--job-seconds 2] [--size 512]

Starts the fake fal (HTTPS on 127.0.0.1 with a test CA, ED25519-signed webhooks), gunicorn and
a Celery worker on the bench settings, Postgres and Redis, with ``PUBLIC_BASE_URL`` pointing at
gunicorn so the fake's webhooks reach the product. Every user posts ``POST /api/generate`` at
the same moment (one thread and connection each); the script prints the submit latencies
(p50/p99), the wall time from the first POST until the last generation is completed (its
``finished_at``), completions per second, and the goals: submit p99 ≤ 100 ms and everything
completed within twice the provider's job time. Then, as a baseline, it sends the same burst three
times to the bare authenticated endpoint of bench/submit. See bench/README.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import secrets
import statistics
import sys
import threading
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from bench import harness  # noqa: E402

MODEL = "fal-ai/flux/dev"
CELERY_QUEUES = "default,generation.fal"
CELERY_CONCURRENCY = 4


def _users(count: int, first_key: str) -> list[str]:
    """API keys of ``count`` users (the bench user and count - 1 more, each with credits)."""
    from accounts.services import api_key_create, user_create
    from credits.services import credits_grant

    keys = [first_key]
    for index in range(1, count):
        user = user_create(email=f"bench-{index}@example.com", password=secrets.token_urlsafe(16))
        credits_grant(user=user, amount=1000, reason="Benchmark credits")
        harness._lift_plan_quotas(user)
        keys.append(api_key_create(user=user, name="bench")[1])
    return keys


def _celery_args(concurrency: int) -> tuple[str, list[str]]:
    name, args = harness.celery_args()
    args[args.index("--concurrency") + 1] = str(concurrency)
    args[args.index("--queues") + 1] = CELERY_QUEUES
    return name, args


def _submit_all(port: int, keys: list[str], size: int) -> tuple[list[float], list[str], float]:
    """Each key posts one generation, all released at once; (latencies, generation ids, start)."""
    body = json.dumps({"model": MODEL, "prompt": "a lighthouse at dusk", "image_size": {"width": size, "height": size}})
    latencies, payloads, started = _burst(port, keys, "/api/generate", body, expect=201)
    return latencies, [json.loads(payload)["generation"]["id"] for payload in payloads], started


def _burst(port: int, keys: list[str], path: str, body: str, *, expect: int) -> tuple[list[float], list[bytes], float]:
    """Each key posts ``body`` to ``path`` once, all released at once, on connections opened
    beforehand; (latencies, answers, start)."""
    barrier = threading.Barrier(len(keys) + 1)
    latencies: list[float] = []
    payloads: list[bytes] = []
    errors: list[str] = []
    lock = threading.Lock()

    def one(key: str) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.connect()
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        barrier.wait()
        started = time.perf_counter()
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        elapsed = time.perf_counter() - started
        conn.close()
        with lock:
            if response.status != expect:
                errors.append(f"{response.status}: {payload[:300]!r}")
                return
            latencies.append(elapsed)
            payloads.append(payload)

    threads = [threading.Thread(target=one, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    barrier.wait()
    started_wall = time.time()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} posts to {path} failed, e.g. {errors[0]}")
    return latencies, payloads, started_wall


def _wait_completed(ids: list[str], timeout: float) -> list:
    from generation.models import TERMINAL_STATUSES, Generation

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = list(
            Generation.objects.filter(pk__in=ids).values("status", "started_at", "finished_at", "error", "logs")
        )
        if len(rows) == len(ids) and all(row["status"] in TERMINAL_STATUSES for row in rows):
            failed = [row for row in rows if row["status"] != "completed"]
            if failed:
                raise RuntimeError(f"{len(failed)} generations did not complete, e.g. {failed[0]}")
            return rows
        time.sleep(0.05)
    raise RuntimeError(f"not all {len(ids)} generations completed within {timeout} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--job-seconds", type=float, default=2.0)
    parser.add_argument("--size", type=int, default=512, help="image width and height")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--concurrency", type=int, default=CELERY_CONCURRENCY, help="Celery prefork processes")
    parser.add_argument("--warmup", type=int, default=8, help="generations run (and not counted) before the burst")
    options = parser.parse_args()

    from tests.fakes.fal import KEY, FakeFal

    fake = FakeFal().start()
    fake.queue_seconds = 0.0
    fake.run_seconds = options.job_seconds
    try:
        with harness.bench_environment() as (env, first_key):
            port = harness.free_port()
            env.update(
                {
                    "FAL_KEY": KEY,
                    "FAL_RUN_HOST": fake.host,
                    "FAL_QUEUE_RUN_HOST": fake.host,
                    "FAL_WEBHOOK_JWKS_URL": fake.jwks_url,
                    "SSL_CERT_FILE": str(fake.certificates.bundle_file),
                    "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
                }
            )
            keys = _users(options.users, first_key)
            name, args = harness.gunicorn_args(port)
            with harness.running((name, args, env), (*_celery_args(options.concurrency), env)) as (web, worker):
                harness.wait_http(web, port, "/api/credits", first_key)
                # Warm-up: each process has loaded the SDKs, opened its connections and fetched
                # the JWKS once, as a server that has been up a while has.
                _, warm_ids, _ = _submit_all(port, keys[: options.warmup], options.size)
                _wait_completed(warm_ids, options.timeout)
                meter = harness.CPUMeter(web)
                cpu_before = meter.sample()
                worker_before = _cpu([worker.pid, *harness.children(worker.pid)])
                own_before = time.process_time()
                latencies, ids, started = _submit_all(port, keys, options.size)
                rows = _wait_completed(ids, options.timeout)
                web_cpu, db_cpu = meter.used(cpu_before)
                worker_cpu = _cpu([worker.pid, *harness.children(worker.pid)]) - worker_before
                own_cpu = time.process_time() - own_before
                last = max(row["finished_at"].timestamp() for row in rows)
                wall = last - started
                status_polls = len(fake.calls("GET", "/status"))
                deliveries = [delivery.status for delivery in fake.deliveries]
                print(f"bench/concurrency: {harness.machine_line()}")
                print(f"  {options.users} users, one fal generation each ({options.size}x{options.size}),")
                print(f"  fake fal job time {options.job_seconds:.1f} s, webhooks to gunicorn, polls as fallback")
                print(f"  gunicorn {harness.GUNICORN_WORKERS}x{harness.GUNICORN_THREADS} gthread, ", end="")
                print(f"celery prefork x{options.concurrency} on {CELERY_QUEUES}")
                p50 = harness.percentile(latencies, 50) * 1000
                p99 = harness.percentile(latencies, 99) * 1000
                print(f"  submit p50 {p50:.1f} ms, p99 {p99:.1f} ms   (goal p99 <= 100 ms: {_goal(p99 <= 100)})")
                limit = 2 * options.job_seconds
                print(
                    f"  all {len(ids)} completed after {wall:.2f} s   (goal <= {limit:.1f} s: {_goal(wall <= limit)})"
                )
                print(f"  completions/s {len(ids) / wall:.1f}")
                _breakdown(rows, started)
                print(
                    f"  CPU seconds: gunicorn {web_cpu:.2f}, celery {worker_cpu:.2f}, postgres {db_cpu:.2f}, "
                    f"bench process (clients + fake fal) {own_cpu:.2f}"
                )
                ok = sum(1 for status in deliveries if status == 200)
                print(f"  webhooks delivered {len(deliveries)} (200: {ok}), status polls {status_polls}")
                _baseline(port, keys, p99)
                harness.print_memory(web, worker)
    finally:
        fake.stop()


def _baseline(port: int, keys: list[str], submit_p99: float, bursts: int = 3) -> None:
    """The same burst on the bare authenticated endpoint of bench/submit, after the run: what
    the server answers 64 requests at once with when a request does nothing."""
    p99s = []
    for _ in range(bursts):
        latencies, _, _ = _burst(port, keys, "/bench/bare", "{}", expect=200)
        p99s.append(harness.percentile(latencies, 99) * 1000)
    median = statistics.median(p99s)
    print(
        f"  baseline: the same burst on POST /bench/bare (bare DRF, same authentication), {bursts} bursts: "
        f"p99 {', '.join(f'{value:.0f}' for value in p99s)} ms; submit p99 / baseline p99 = {submit_p99 / median:.2f}"
    )


def _breakdown(rows: list, started: float) -> None:
    """When, after the first POST, the jobs were claimed, queued at fal and completed (p50 / max)."""
    from datetime import datetime

    def queued_at(row) -> float:
        for line in row["logs"]:
            if line["message"].startswith("Queued on fal"):
                return datetime.fromisoformat(line["at"]).timestamp()
        return float("nan")

    for label, values in (
        ("claimed by a worker", [row["started_at"].timestamp() - started for row in rows]),
        ("queued at fal", [queued_at(row) - started for row in rows]),
        ("completed", [row["finished_at"].timestamp() - started for row in rows]),
    ):
        print(f"  {label:<20} p50 {harness.percentile(values, 50):5.2f} s, max {max(values):5.2f} s")


def _cpu(pids: list[int]) -> float:
    return sum(harness.cpu_seconds(pid) for pid in pids)


def _goal(met: bool) -> str:
    return "met" if met else "MISSED"


if __name__ == "__main__":
    main()

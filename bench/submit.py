"""Queued-mode ``POST /api/generate`` against a bare authenticated DRF endpoint, same server.

    .venv/bin/python bench/submit.py [--requests 1500] [--rounds 3] [--concurrency 32]

Starts gunicorn (bench settings: production settings + the bench URLconf) on 127.0.0.1 with
Postgres and Redis; no Celery worker runs, so every generation stays queued in Redis. The
two endpoints are loaded in alternating rounds by the same keep-alive client, and the figures
of each are summed over the rounds. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402

GENERATE_BODY = {
    "model": "local/procedural",
    "prompt": "a lighthouse at sunset",
    "image_size": {"width": 256, "height": 256},
}
GOAL_RATIO = 0.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1500, help="requests per endpoint per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=300, help="requests per endpoint before measuring")
    parser.add_argument("--max-seconds", type=float, default=90.0, help="time limit of one phase")
    args = parser.parse_args()

    with harness.bench_environment() as (env, key):
        port = harness.free_port()
        name, gunicorn = harness.gunicorn_args(port)
        with harness.running((name, gunicorn, env)) as (web,):
            harness.wait_http(web, port, "/bench/bare", key)
            bare_request = harness.http_request("POST", "/bench/bare", key, GENERATE_BODY)
            generate_request = harness.http_request("POST", "/api/generate", key, GENERATE_BODY)
            phases = {"bare": bare_request, "generate": generate_request}
            for request in phases.values():
                harness.load(
                    request, port=port, concurrency=args.concurrency, requests=args.warmup, max_seconds=args.max_seconds
                )
            results = {name: harness.LoadResult() for name in phases}
            meter = harness.CPUMeter(web)
            print(f"  load average before: {harness.load_average()}", flush=True)
            round_ratios = []
            for round_number in range(1, args.rounds + 1):
                line, round_rps = [], {}
                for phase, request in phases.items():
                    before = meter.sample()
                    result = harness.load(
                        request,
                        port=port,
                        concurrency=args.concurrency,
                        requests=args.requests,
                        max_seconds=args.max_seconds,
                    )
                    result.web_cpu, result.database_cpu = meter.used(before)
                    results[phase].merge(result)
                    round_rps[phase] = result.summary()["rps"]
                    line.append(f"{phase} {round_rps[phase]:.1f} req/s")
                if round_rps["bare"]:
                    round_ratios.append(round_rps["generate"] / round_rps["bare"])
                print(f"  round {round_number}: {', '.join(line)}", flush=True)
            queued = _queued_count()
            report(args, results, queued, round_ratios)
            print("Memory after the run")
            harness.print_memory(web)
            failures = {name: r for name, r in results.items() if r.ok != len(r.latencies) or r.errors}
            for phase, result in failures.items():
                print(f"  {phase}: statuses {result.statuses}, errors {result.errors}: {result.sample_error}")
            return 1 if failures else 0


def _queued_count() -> int:
    from generation.models import Generation, Status

    return Generation.objects.filter(status=Status.IN_QUEUE).count()


def report(args, results: dict[str, harness.LoadResult], queued: int, round_ratios: list[float]) -> None:
    bare, generate = results["bare"].summary(), results["generate"].summary()
    ratio = generate["rps"] / bare["rps"] if bare["rps"] else 0.0
    print(f"bench/submit  {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"  machine: {harness.machine_line()}")
    print(
        f"  server: gunicorn config.wsgi, {harness.GUNICORN_WORKERS} workers, gthread x {harness.GUNICORN_THREADS} "
        f"threads, bench.settings (production + bench URLconf), Postgres, Redis broker/cache"
    )
    print(
        f"  load: {args.concurrency} keep-alive clients, {args.rounds} alternating rounds of {args.requests} "
        f"requests per endpoint, after {args.warmup} warm-up requests each"
    )
    print(
        f"  {'endpoint':<28}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'web CPU ms/req':>16}{'DB CPU ms/req':>15}"
    )
    for label, figures in (("POST /bench/bare (DRF)", bare), ("POST /api/generate (queued)", generate)):
        print(
            f"  {label:<28}{figures['requests']:>9}{figures['rps']:>9.1f}"
            f"{figures['p50_ms']:>9.1f}{figures['p99_ms']:>9.1f}"
            f"{figures['web_cpu_ms']:>16.1f}{figures['db_cpu_ms']:>15.1f}"
        )
    print(f"  generations left queued in Redis: {queued}")
    verdict = "met" if ratio >= GOAL_RATIO else "MISSED"
    print(f"  ratio generate/bare req/s = {ratio:.2f}  (goal >= {GOAL_RATIO}: {verdict})")
    if round_ratios:
        print(
            f"  ratio per round: {', '.join(f'{r:.2f}' for r in round_ratios)} "
            f"(median {statistics.median(round_ratios):.2f}; a round that other load on the machine "
            "slowed shows here alone)"
        )
    bare_cost, generate_cost = bare["web_cpu_ms"] + bare["db_cpu_ms"], generate["web_cpu_ms"] + generate["db_cpu_ms"]
    if generate_cost:
        print(
            f"  ratio of CPU cost (web + DB) per request bare/generate = {bare_cost / generate_cost:.2f} "
            "(what the req/s ratio tends to when CPU-bound; less sensitive to other load on the machine)"
        )
    print(f"  load average after: {harness.load_average()}")


if __name__ == "__main__":
    started = time.monotonic()
    code = main()
    print(f"  (bench took {time.monotonic() - started:.0f} s)")
    sys.exit(code)

"""What a provider's log line costs once outbound webhooks may announce it, on PostgreSQL, against
recording the line alone in the same run.

    python -m bench.webhook_events [--lines 200] [--rounds 7]

One thread plays a provider that reports ``--lines`` log lines as fast as it can
(``generation_record_log``, what a worker's reporter calls) on a running generation of its own,
in three cases, alternated for ``--rounds`` rounds:

- "recorded only": the line is saved and published to the live stream, and not announced (the
  ``generation_log`` send is switched off): what a line cost before generations' webhooks;
- "announced, no one asks": the generation has no ``webhook_url`` and no endpoint names
  ``image.log`` (almost every generation);
- "webhook_url asks for logs": ``webhook_events_filter: ["logs"]``, paced: the first line makes
  a message, every other line of the burst joins the one waiting for its interval (the worst
  case of pacing: one message's body rewritten per line).

Deliveries are left pending (task messages go to an in-memory broker no worker reads): the
sending is the delivery machinery's, measured elsewhere. Medians of the time per line, and their
ratios to "recorded only". It creates its own database (``BENCH_DB_NAME``, default
``atelier_bench_webhook_events``) on the server of ``BENCH_PG_URL`` (default
``postgres://postgres@127.0.0.1:5432``), migrates it and drops it at the end.
"""

import argparse
import statistics
import time

from bench import harness


def _running_generation(user, **fields):
    from catalog.models import AIModel
    from generation.models import Generation, Status

    return Generation.objects.create(
        user=user,
        model=AIModel.objects.get(pk="local/procedural"),
        provider="local",
        prompt="a lighthouse",
        final_prompt="a lighthouse",
        width=64,
        height=64,
        status=Status.PROCESSING,
        **fields,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200, help="log lines per burst")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    with harness.django_in_process("atelier_bench_webhook_events"):
        from accounts.models import User
        from config.celery import app
        from generation.services import events
        from webhooks.models import WebhookMessage

        app.conf.task_always_eager = False  # deliveries wait at the in-memory broker
        user = User.objects.create(username="bench", email="bench@example.com")
        announce = events.generation_log_send

        def burst(generation_id) -> float:
            started = time.perf_counter()
            for n in range(args.lines):
                events.generation_record_log(generation_id=generation_id, message=f"step {n} of {args.lines}")
            return (time.perf_counter() - started) / args.lines * 1000

        def recorded_only() -> float:
            events.generation_log_send = lambda **kwargs: None
            try:
                return burst(_running_generation(user).pk)
            finally:
                events.generation_log_send = announce

        def nobody_asks() -> float:
            return burst(_running_generation(user).pk)

        def url_asks() -> float:
            generation = _running_generation(
                user, webhook_url="https://hooks.example.com/atelier", webhook_events_filter=["logs", "completed"]
            )
            return burst(generation.pk)

        cases = {
            "recorded only": recorded_only,
            "announced, no one asks": nobody_asks,
            "webhook_url asks for logs": url_asks,
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for case in cases.values():
            case()  # warm-up: connections, caches, first queries
        for _ in range(args.rounds):
            for name, case in cases.items():
                times[name].append(case())

        messages = WebhookMessage.objects.filter(event="image.log").count()
        print(f"PostgreSQL, one thread, bursts of {args.lines} log lines, {args.rounds} rounds (medians)")
        baseline = statistics.median(times["recorded only"])
        for name, values in times.items():
            median = statistics.median(values)
            print(f"  {name:<28} {median:7.3f} ms/line   {median / baseline:5.2f}×")
        print(f"  image.log messages made for {args.rounds + 1} paced bursts: {messages}")


if __name__ == "__main__":
    main()

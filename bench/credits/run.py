"""Debits per second on PostgreSQL: one hot account and 1 000 accounts, 16 concurrent workers,
against a bare ``UPDATE`` of one row in the same run.

    python -m bench.credits.run [--seconds 5] [--workers 16] [--accounts 1000]

It creates its own database (``BENCH_DB_NAME``, default ``atelier_bench_credits``) on the
server of ``BENCH_PG_URL`` (default ``postgres://postgres@127.0.0.1:5432``), migrates it, and
drops it at the end. Workers are threads, each with its own connection (the database work
releases the GIL); the baseline runs through the same harness, so the ratio compares like with like.
"""

import argparse
import random
import threading
import time

from bench import harness

START_BALANCE = 10**9


def accounts_make(count: int) -> list:
    from django.db import transaction

    from accounts.models import User
    from credits.models import CreditAccount, LedgerEntry
    from credits.services import plan_default

    plan = plan_default()
    with transaction.atomic():
        users = User.objects.bulk_create(
            [User(username=f"bench{n}", email=f"bench{n}@example.com") for n in range(count)]
        )
        CreditAccount.objects.bulk_create([CreditAccount(user=u, plan=plan, balance=START_BALANCE) for u in users])
        LedgerEntry.objects.bulk_create(
            [LedgerEntry(user=u, kind="grant", amount=START_BALANCE, balance_after=START_BALANCE) for u in users]
        )
    return users


def measure(work, *, workers: int, seconds: float) -> tuple[float, int]:
    """Runs ``work()`` in a loop on ``workers`` threads for ``seconds``: calls per second, calls."""
    from django.db import connection

    stop = threading.Event()
    counts = [0] * workers
    barrier = threading.Barrier(workers + 1)

    def loop(index: int) -> None:
        rng = random.Random(index)
        connection.ensure_connection()
        barrier.wait()
        done = 0
        while not stop.is_set():
            work(rng)
            done += 1
        counts[index] = done
        connection.close()

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - started), sum(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--accounts", type=int, default=1000)
    args = parser.parse_args()

    with harness.django_in_process("atelier_bench_credits"):
        from django.db import connection
        from django.db.models import Sum

        from credits.models import CreditAccount, LedgerEntry
        from credits.services import credits_debit

        users = accounts_make(args.accounts)
        # The spread cases never touch the hot account, so its ledger can be checked at the end.
        hot, others = users[0], users[1:]
        table = CreditAccount._meta.db_table

        def debit_hot(rng):
            credits_debit(user=hot, amount=1, reason="bench")

        def debit_spread(rng):
            credits_debit(user=others[rng.randrange(len(others))], amount=1, reason="bench")

        def bare_hot(rng):
            with connection.cursor() as cursor:
                cursor.execute(f"UPDATE {table} SET balance = balance - 1 WHERE user_id = %s", [hot.pk])  # noqa: S608

        def bare_spread(rng):
            with connection.cursor() as cursor:
                sql = f"UPDATE {table} SET balance = balance - 1 WHERE user_id = %s"  # noqa: S608
                cursor.execute(sql, [others[rng.randrange(len(others))].pk])

        results, calls = {}, {}
        for name, work in [
            ("bare UPDATE, one row", bare_hot),
            ("credits_debit, one hot account", debit_hot),
            ("bare UPDATE, spread rows", bare_spread),
            (f"credits_debit, {args.accounts} accounts", debit_spread),
        ]:
            results[name], calls[name] = measure(work, workers=args.workers, seconds=args.seconds)
        connection.close()

        print(f"PostgreSQL, {args.workers} concurrent workers, {args.seconds:g} s per case")
        for name, rate in results.items():
            print(f"  {name:<38} {rate:>10,.0f} /s")
        hot_ratio = results["credits_debit, one hot account"] / results["bare UPDATE, one row"]
        spread_ratio = results[f"credits_debit, {args.accounts} accounts"] / results["bare UPDATE, spread rows"]
        print(f"  ratio debit / bare UPDATE, hot account: {hot_ratio:.2f}")
        print(f"  ratio debit / bare UPDATE, spread:      {spread_ratio:.2f}")

        # The bare UPDATEs bypass the ledger on purpose; every debit must be in it. On the hot
        # account: balance = ledger sum - bare UPDATEs of that row.
        ledger_hot = LedgerEntry.objects.filter(user=hot).aggregate(total=Sum("amount"))["total"]
        balance_hot = CreditAccount.objects.get(user=hot).balance
        exact = balance_hot == ledger_hot - calls["bare UPDATE, one row"]
        print(f"  ledger debit entries written: {LedgerEntry.objects.filter(kind='debit').count():,}")
        print(f"  hot account ledger matches its debits: {'yes' if exact else 'NO'}")
        connection.close()


if __name__ == "__main__":
    main()

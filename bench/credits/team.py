"""A team's wallet under concurrency on PostgreSQL: 200 racing debits by 20 members with
per-member caps (exactly the affordable number succeed, every cap exact, the ledger sums to the
balance), then debits per second on one team wallet against one personal account in the same run.

    python -m bench.credits.team [--seconds 5] [--workers 16]

It creates its own database (``BENCH_DB_NAME``, default ``atelier_bench_team_credits``) on the
server of ``BENCH_PG_URL`` and drops it at the end, as ``bench.credits.run`` does.
"""

import argparse
import threading

from bench.credits.run import accounts_make, measure
from bench.harness import django_in_process

MEMBERS = 20
DEBITS = 200
CAP = 8
WALLET = 150
BIG = 10**9


def _team(*, members: int, cap: int | None, balance: int):
    from django.db import transaction

    from accounts.models import User
    from credits.models import CreditAccount, LedgerEntry
    from teams.models import Membership, Team

    with transaction.atomic():
        team = Team.objects.create(name=f"bench team {Team.objects.count()}")
        offset = User.objects.count()
        people = User.objects.bulk_create(
            [User(username=f"member{offset + n}", email=f"member{offset + n}@example.com") for n in range(members)]
        )
        Membership.objects.bulk_create(
            [Membership(team=team, user=user, role="member", monthly_credit_cap=cap) for user in people]
        )
        CreditAccount.objects.bulk_create([CreditAccount(team=team, balance=balance)])
        LedgerEntry.objects.bulk_create(
            [LedgerEntry(team=team, kind="grant", amount=balance, balance_after=balance, reason="bench")]
        )
    return team, people


def _burst(team, people) -> dict:
    """One thread per member (each its own connection), released together, each debiting 1
    credit DEBITS / MEMBERS times as fast as it can: DEBITS debits racing on one wallet."""
    from django.db import connection

    from core.errors import ApplicationError
    from credits.team_wallet import team_wallet_debit

    barrier = threading.Barrier(len(people))
    outcomes: list[str] = []
    lock = threading.Lock()

    def member_loop(member) -> None:
        connection.ensure_connection()
        barrier.wait()
        for _ in range(DEBITS // len(people)):
            try:
                team_wallet_debit(team_id=team.pk, member=member, amount=1, reason="bench burst")
                result = "ok"
            except ApplicationError as error:
                result = error.extra.get("exhausted", error.type)
            with lock:
                outcomes.append(result)
        connection.close()

    threads = [threading.Thread(target=member_loop, args=(member,)) for member in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {name: outcomes.count(name) for name in sorted(set(outcomes))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()

    with django_in_process("atelier_bench_team_credits"):
        from django.db import connection
        from django.db.models import Sum

        from credits.models import CreditAccount, LedgerEntry
        from credits.services import credits_debit
        from credits.team_wallet import team_wallet_debit

        team, people = _team(members=MEMBERS, cap=CAP, balance=WALLET)
        outcomes = _burst(team, people)
        spent = dict(
            LedgerEntry.objects.filter(team=team, kind="debit")
            .values_list("member__email")
            .annotate(total=Sum("amount"))
            .values_list("member__email", "total")
        )
        balance = CreditAccount.objects.get(team=team).balance
        ledger = LedgerEntry.objects.filter(team=team).aggregate(total=Sum("amount"))["total"]
        affordable = min(WALLET, MEMBERS * CAP, DEBITS)
        print(f"Burst: {DEBITS} debits of 1 credit at once by {MEMBERS} members, caps {CAP}, wallet {WALLET}")
        print(f"  outcomes: {outcomes}")
        print(
            f"  succeeded {outcomes.get('ok', 0)} of an affordable {affordable}: "
            f"{'exact' if outcomes.get('ok', 0) == affordable else 'NOT EXACT'}"
        )
        print(
            f"  largest member spend {max(-v for v in spent.values())} (cap {CAP}): "
            f"{'caps exact' if all(-v <= CAP for v in spent.values()) else 'CAP PASSED'}"
        )
        print(f"  wallet {balance}, ledger sum {ledger}: {'matches' if balance == ledger else 'MISMATCH'}")

        # Throughput: the same workers on one team wallet (every member capped high, so each debit
        # reads its member's month) and on one personal account.
        busy_team, busy_people = _team(members=MEMBERS, cap=BIG, balance=BIG)
        hot = accounts_make(1)[0]

        def debit_team(rng):
            team_wallet_debit(
                team_id=busy_team.pk, member=busy_people[rng.randrange(len(busy_people))], amount=1, reason="bench"
            )

        def debit_personal(rng):
            credits_debit(user=hot, amount=1, reason="bench")

        results = {}
        for name, work in [
            ("credits_debit, one personal account", debit_personal),
            (f"team_wallet_debit, one wallet, {MEMBERS} capped members", debit_team),
        ]:
            results[name], _ = measure(work, workers=args.workers, seconds=args.seconds)
        connection.close()
        print(f"PostgreSQL, {args.workers} concurrent workers, {args.seconds:g} s per case")
        for name, rate in results.items():
            print(f"  {name:<52} {rate:>8,.0f} /s")
        rates = list(results.values())
        print(f"  ratio team wallet / personal account: {rates[1] / rates[0]:.2f}")
        balance = CreditAccount.objects.get(team=busy_team).balance
        ledger = LedgerEntry.objects.filter(team=busy_team).aggregate(total=Sum("amount"))["total"]
        print(f"  busy wallet {balance:,}, ledger sum {ledger:,}: {'matches' if balance == ledger else 'MISMATCH'}")
        connection.close()


if __name__ == "__main__":
    main()

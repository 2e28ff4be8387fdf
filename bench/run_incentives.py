"""Benchmark of the statements run on PostgreSQL:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/salesmgmt_bench \\
        python -m bench.run_incentives [--scale 0.1] [--repeat 3]

Creates and migrates the database when needed, fills the bench company (500 reps, their
customers and deals: bench.customers, bench.pipeline), gives every rep a tiered plan with
new-customer and large-deal bonuses and a revenue target for the last full quarter, then
times computing the statements of all 500 reps for that quarter (the nightly run's path:
inputs read for everyone at once, lines written in bulk), first when they are created and
then when they are rebuilt. Each is printed next to the hand-written SQL that fetches the
same inputs (the credited won deals with their new-customer flag, and the targets) in the
same run, and their ratio (target: at most 3x at p95).
"""

import argparse
import datetime as dt
import sys
import time
from decimal import Decimal

from bench.run_customers import _prepare_database, _setup_django

TARGET_RATIO = 3.0
PLAN_NAME = "Bench reps"

INPUTS_SQL = """
SELECT d.id, d.name, d.amount, d.closed_at, d.product_category_id, c.cost,
       COALESCE(cr.user_id, d.owner_id), COALESCE(cr.percent, 100),
       NOT EXISTS (
           SELECT 1 FROM pipeline_deal e
           WHERE e.account_id = d.account_id AND e.status = 'won' AND e.deleted_at IS NULL
             AND (e.closed_at < d.closed_at OR (e.closed_at = d.closed_at AND e.id < d.id))
       )
FROM pipeline_deal d
LEFT JOIN incentives_dealcredit cr ON cr.deal_id = d.id
LEFT JOIN incentives_dealcost c ON c.deal_id = d.id
WHERE d.status = 'won' AND d.deleted_at IS NULL AND d.closed_at BETWEEN %s AND %s
  AND ((cr.id IS NULL AND d.owner_id = ANY(%s)) OR cr.user_id = ANY(%s))
"""
TARGETS_SQL = """
SELECT t.user_id, t.value FROM performance_target t
WHERE t.metric = 'revenue' AND t.period_type = 'quarter' AND t.start = %s
  AND t.product_category_id IS NULL AND t.industry_id IS NULL AND t.tier = ''
  AND t.user_id = ANY(%s)
"""


def last_full_quarter(today: dt.date) -> tuple[dt.date, dt.date]:
    from performance import periods

    this = periods.period_bounds("quarter", today)
    return periods.period_bounds("quarter", this[0] - dt.timedelta(days=1))


def prepare(reps, quarter) -> None:
    """The plan for every rep (through the services) and each rep's quarter target."""
    from incentives import services
    from incentives.models import BonusRule, CommissionPlan, CommissionRule
    from performance.models import Target

    if not CommissionPlan.objects.filter(name=PLAN_NAME).exists():
        plan = services.commission_plan_save(
            by=None,
            plan=CommissionPlan(name=PLAN_NAME, effective_from=dt.date(2000, 1, 1)),
            users=reps,
        )
        tiers = [
            {"from_percent": Decimal("0"), "to_percent": Decimal("80"), "rate": Decimal("3")},
            {"from_percent": Decimal("80"), "to_percent": Decimal("100"), "rate": Decimal("5")},
            {"from_percent": Decimal("100"), "to_percent": None, "rate": Decimal("8")},
        ]
        services.commission_rule_save(
            by=None,
            rule=CommissionRule(plan=plan, name="Revenue", tier_mode="marginal"),
            tiers=tiers,
        )
        for bonus in (
            BonusRule(plan=plan, name="New customer", kind="new_customer", amount=Decimal(500)),
            BonusRule(
                plan=plan,
                name="Large deal",
                kind="large_deal",
                min_deal_amount=Decimal("300000"),
                percent=Decimal("1"),
            ),
        ):
            services.bonus_rule_save(by=None, bonus=bonus)
    have = set(
        Target.objects.filter(
            metric="revenue", period_type="quarter", start=quarter[0], user__in=reps
        ).values_list("user_id", flat=True)
    )
    Target.objects.bulk_create(
        Target(
            user=rep,
            metric="revenue",
            period_type="quarter",
            start=quarter[0],
            end=quarter[1],
            value=Decimal(300_000 + (rep.pk % 7) * 50_000),
        )
        for rep in reps
        if rep.pk not in have
    )


def run(*, scale: float, repeat: int) -> bool:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from bench.customers import Sizes as CustomerSizes
    from bench.harness import Timing, measure, report, timed
    from bench.org import generate_org
    from bench.pipeline import Sizes, generate_pipeline
    from incentives import services
    from incentives.models import Statement, StatementLine
    from teams.models import Role, User

    org = generate_org()
    with timed("data generation (reuses earlier rows)"):
        generate_pipeline(
            sizes=Sizes.scaled(scale), customer_sizes=CustomerSizes.scaled(scale), org=org
        )
    reps = list(User.objects.filter(role=Role.REP, username__startswith="bench_rep"))
    quarter = last_full_quarter(timezone.localdate())
    prepare(reps, quarter)
    plan = services.selectors.plan_for(reps[0], on=quarter[0])
    plans = {rep.pk: plan for rep in reps}
    ids = [rep.pk for rep in reps]

    def statements():
        services.statements_compute_many(users=reps, period=quarter, plans=plans)

    def inputs_sql():
        with connection.cursor() as cursor:
            cursor.execute(INPUTS_SQL, [quarter[0], quarter[1], ids, ids])
            rows = cursor.fetchall()
            cursor.execute(TARGETS_SQL, [quarter[0], ids])
            return rows, cursor.fetchall()

    def created_timing() -> Timing:
        """Creation timed alone: the previous run's statements are deleted untimed."""
        samples, queries = [], 0
        for _run in range(repeat):
            Statement.objects.filter(user__in=reps, start=quarter[0]).delete()
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                statements()
                samples.append(time.perf_counter() - began)
            queries = len(captured.captured_queries)
        return Timing("statements of 500 reps, created", samples, queries)

    baseline = measure("inputs SQL", inputs_sql, repeat=max(repeat, 5))
    rows = len(inputs_sql()[0])
    print(f"{len(reps)} reps, quarter {quarter[0]} – {quarter[1]}: {rows:,} credited won deals")
    created = created_timing()
    rebuilt = measure("statements of 500 reps, rebuilt", statements, repeat=repeat, warmup=1)
    lines = StatementLine.objects.filter(statement__start=quarter[0]).count()
    print(f"{lines:,} statement lines")
    results = [
        report(created.label, created, baseline, target_ratio=TARGET_RATIO),
        report(rebuilt.label, rebuilt, baseline, target_ratio=TARGET_RATIO),
    ]
    return all(results)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full sizes")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per line")
    args = parser.parse_args(argv)
    _prepare_database()
    _setup_django()
    ok = run(scale=args.scale, repeat=args.repeat)
    print("all lines within target" if ok else "some lines over target")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

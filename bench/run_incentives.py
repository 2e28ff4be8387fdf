"""Benchmark of the statements run on PostgreSQL:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/salesmgmt_bench \\
        python -m bench.run_incentives [--scale 0.1] [--repeat 3]

Creates and migrates the database when needed, fills the bench company (500 reps, their
customers and deals: bench.customers, bench.pipeline), gives every rep a tiered plan with
new-customer and large-deal bonuses and a revenue target for the last full quarter, then
times computing the statements of all 500 reps for that quarter (the nightly run's path:
inputs read for everyone at once, lines written in bulk), first when they are created and
then when they are rebuilt. Each is printed next to a baseline measured in the same run,
with their ratio (target: at most 3x at p95):

- rebuilt, against the hand-written SQL that fetches the same inputs (the credited won
  deals with their new-customer flag, and the targets): a rebuild of unchanged statements
  writes next to nothing, so reading its inputs is the work it cannot avoid;
- created, against that SQL followed by hand-written writes of exactly the rows the run
  wrote (read back untimed after it): one INSERT of the statements returning their ids,
  then one COPY of all their lines, committed. Creation writes tens of thousands of lines
  into the real tables, whose indexes and foreign keys (checked at the commit: Django
  makes them deferred) cost the same to any writer, so only a baseline that writes and
  commits the same rows leaves the run's own overhead to the ratio. Each timed sample of
  either starts with no statements for the quarter (deleted and their tables vacuumed,
  untimed) and the two take turns. Creation against the inputs SQL alone is printed too,
  for information, with no target.
"""

import argparse
import csv
import datetime as dt
import io
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
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from psycopg2.extras import execute_values

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

    quote = connection.ops.quote_name
    statement_fields = [f for f in Statement._meta.concrete_fields if not f.primary_key]
    # The lines' statement is named by its person until the statements have their ids.
    line_fields = [
        f
        for f in StatementLine._meta.concrete_fields
        if not f.primary_key and f.name != "statement"
    ]
    insert_statements = (
        f"INSERT INTO {quote(Statement._meta.db_table)} "
        f"({', '.join(quote(f.column) for f in statement_fields)}) VALUES %s "
        f"RETURNING {quote('user_id')}, {quote('id')}"
    )
    copy_fields = [StatementLine._meta.get_field("statement"), *line_fields]
    nullable = ", ".join(quote(f.column) for f in line_fields if f.null)
    copy_lines = (
        f"COPY {quote(StatementLine._meta.db_table)} "
        f"({', '.join(quote(f.column) for f in copy_fields)}) "
        f"FROM STDIN WITH (FORMAT csv, FORCE_NULL ({nullable}))"
    )

    def delete_statements():
        """No statements for the quarter, and no dead rows of earlier samples in their tables
        (the server may not vacuum on its own), so every sample writes into the same tables."""
        Statement.objects.filter(user__in=reps, start=quarter[0]).delete()
        with connection.cursor() as cursor:
            tables = (StatementLine._meta.db_table, Statement._meta.db_table)
            cursor.execute(f"VACUUM {', '.join(quote(table) for table in tables)}")

    def written() -> tuple[list[tuple], list[tuple]]:
        """The statements the run wrote and their lines, as rows to write again."""
        ours = Statement.objects.filter(user__in=reps, start=quarter[0]).order_by()
        rows = list(ours.values_list(*(f.attname for f in statement_fields)))
        lines = (
            StatementLine.objects.filter(statement__in=ours)
            .order_by()
            .values_list("statement__user_id", *(f.attname for f in line_fields))
        )
        return rows, list(lines)

    def inputs_sql_and_writes(rows: list[tuple], lines: list[tuple]) -> None:
        inputs_sql()
        with transaction.atomic(), connection.cursor() as cursor:
            ids = dict(
                execute_values(cursor, insert_statements, rows, page_size=len(rows), fetch=True)
            )
            buffer = io.StringIO()
            csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n").writerows(
                (ids[user_id], *line) for user_id, *line in lines
            )
            buffer.seek(0)
            cursor.copy_expert(copy_lines, buffer)

    def created_timings() -> tuple[Timing, Timing]:
        """Creation and its writing baseline, in turns, each timed from no statements. The
        baseline writes the run's own rows back, which the rebuild then starts from."""
        created, writes, queries, rows = [], [], 0, None
        for _run in range(repeat):
            delete_statements()
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                statements()
                created.append(time.perf_counter() - began)
            queries = len(captured.captured_queries)
            rows = rows or written()
            delete_statements()
            began = time.perf_counter()
            inputs_sql_and_writes(*rows)
            writes.append(time.perf_counter() - began)
        # The inputs, the targets, the statements' INSERT and the lines' COPY.
        return Timing("statements of 500 reps, created", created, queries), Timing(
            "inputs SQL and writes", writes, 4
        )

    baseline = measure("inputs SQL", inputs_sql, repeat=max(repeat, 5))
    rows = len(inputs_sql()[0])
    print(f"{len(reps)} reps, quarter {quarter[0]} – {quarter[1]}: {rows:,} credited won deals")
    created, writes = created_timings()
    rebuilt = measure("statements of 500 reps, rebuilt", statements, repeat=repeat, warmup=1)
    lines = StatementLine.objects.filter(statement__start=quarter[0]).count()
    print(f"{lines:,} statement lines")
    created_ok = report(
        "created, vs inputs SQL and the same writes", created, writes, target_ratio=TARGET_RATIO
    )
    report("created, vs inputs SQL alone", created, baseline, target_ratio=None)
    rebuilt_ok = report("rebuilt, vs inputs SQL", rebuilt, baseline, target_ratio=TARGET_RATIO)
    return created_ok and rebuilt_ok


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

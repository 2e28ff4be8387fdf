"""Benchmark of the pipeline reports on PostgreSQL:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/salesmgmt_bench \\
        python -m bench.run_pipeline [--scale 0.01] [--repeat 10]

Creates and migrates the database when needed, fills the bench company's customers
(bench.customers) and deals (bench.pipeline), then times the funnel of the last 90 days for
the whole company (an admin) and for a regional manager's subtree, the nightly funnel rollup
of one day, the month's forecast, one rep's kanban board and the manager dashboard page.
Each report is printed with p50 and p95 next to the best hand-written SQL computing the same
numbers, timed in alternation with it in the same run, and their ratio (target: at most 2x
at p95); the page's p95 is printed on its own.
"""

import argparse
import sys
from datetime import timedelta

from bench.run_customers import _prepare_database, _setup_django

TARGET_RATIO = 2.0
ADMIN = "bench_admin"

SCOPE_SQL = (
    " AND d.owner_id IN (SELECT u.id FROM teams_user u JOIN teams_team t ON t.id = u.team_id "
    "WHERE t.path LIKE %s)"
)


def _queries(statements):
    """One callable running each (sql, params) in turn and fetching all rows, as the
    hand-written baseline of a report made of several aggregates."""
    from django.db import connection

    def run():
        rows = []
        with connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
                rows.append(cursor.fetchall())
        return rows

    return run


def _changes_sql(extra_select: str = "", extra_group: str = "", scope: str = "") -> str:
    return (
        f"SELECT sc.from_stage_id, sc.to_stage_id{extra_select}, COUNT(*), "
        "SUM(sc.days_in_previous_stage) FROM pipeline_stagechange sc "
        "JOIN pipeline_deal d ON d.id = sc.deal_id "
        f"WHERE d.pipeline_id = %s AND d.deleted_at IS NULL{scope} "
        "AND sc.changed_at >= %s AND sc.changed_at < %s "
        f"GROUP BY sc.from_stage_id, sc.to_stage_id{extra_group}"
    )


def _median_sql(scope: str, vendor: str) -> str:
    where = (
        f"WHERE d.pipeline_id = %s AND d.deleted_at IS NULL{scope} AND sc.changed_at >= %s "
        "AND sc.changed_at < %s AND sc.from_stage_id IS NOT NULL "
        "AND sc.days_in_previous_stage IS NOT NULL"
    )
    source = "FROM pipeline_stagechange sc JOIN pipeline_deal d ON d.id = sc.deal_id "
    if vendor == "postgresql":
        return (
            "SELECT sc.from_stage_id, percentile_cont(0.5) WITHIN GROUP "
            f"(ORDER BY sc.days_in_previous_stage) {source}{where} GROUP BY sc.from_stage_id"
        )
    return (
        "SELECT from_stage_id, AVG(days) FROM (SELECT sc.from_stage_id, "
        "sc.days_in_previous_stage AS days, ROW_NUMBER() OVER (PARTITION BY sc.from_stage_id "
        "ORDER BY sc.days_in_previous_stage) AS rn, COUNT(*) OVER (PARTITION BY "
        f"sc.from_stage_id) AS n {source}{where}) m WHERE rn BETWEEN (n + 1) / 2 AND (n + 2) / 2 "
        "GROUP BY from_stage_id"
    )


def _in_stage_sql(scope: str = "", by_owner: bool = False) -> str:
    owner = ", d.owner_id" if by_owner else ""
    return (
        f"SELECT d.stage_id{owner}, COUNT(*), SUM(d.amount), "
        "SUM(d.amount * COALESCE(d.probability_override, s.win_probability)), "
        "SUM(CASE WHEN d.stage_due_at <= %s THEN 1 ELSE 0 END) FROM pipeline_deal d "
        "JOIN pipeline_stage s ON s.id = d.stage_id WHERE d.pipeline_id = %s "
        f"AND d.deleted_at IS NULL AND d.status = 'open'{scope} GROUP BY d.stage_id{owner}"
    )


def _funnel_baseline(pipeline, start, end, now, path=None):
    """The funnel's numbers (see pipeline.selectors.funnel) in hand-written SQL."""
    from django.db import connection

    from pipeline.selectors import local_start, trailing_quarters

    ts = connection.ops.adapt_datetimefield_value
    scope = SCOPE_SQL if path else ""
    scope_params = [path + "%"] if path else []
    since, until = ts(local_start(start)), ts(local_start(end + timedelta(days=1)))
    history_start, history_end = trailing_quarters(start)
    history = [ts(local_start(history_start)), ts(local_start(history_end + timedelta(days=1)))]
    flows = [pipeline.pk, *scope_params, since, until]
    return _queries(
        [
            (_changes_sql(", d.owner_id", ", d.owner_id", scope), flows),
            (_changes_sql(scope=scope), [pipeline.pk, *scope_params, *history]),
            (_median_sql(scope, connection.vendor), flows),
            (_in_stage_sql(scope), [ts(now), pipeline.pk, *scope_params]),
            (
                "SELECT SUM(CASE WHEN d.status = 'won' THEN 1 ELSE 0 END), "
                "SUM(CASE WHEN d.status = 'lost' THEN 1 ELSE 0 END) FROM pipeline_deal d "
                f"WHERE d.pipeline_id = %s AND d.deleted_at IS NULL{scope} "
                "AND d.closed_at >= %s AND d.closed_at <= %s",
                [pipeline.pk, *scope_params, start, end],
            ),
            (
                "SELECT SUM(sc.days_in_previous_stage) FROM pipeline_stagechange sc "
                "JOIN pipeline_deal d ON d.id = sc.deal_id "
                "JOIN pipeline_stage fs ON fs.id = sc.from_stage_id "
                f"WHERE d.pipeline_id = %s AND d.deleted_at IS NULL{scope} "
                "AND d.status = 'won' AND d.closed_at >= %s AND d.closed_at <= %s "
                "AND NOT fs.is_won AND NOT fs.is_lost",
                [pipeline.pk, *scope_params, start, end],
            ),
        ]
    )


def _rollup_baseline(pipeline, day, now):
    """The nightly funnel rows of one day (flows and in-stage figures per owner and stage)."""
    from django.db import connection

    from pipeline.selectors import local_start

    ts = connection.ops.adapt_datetimefield_value
    since, until = ts(local_start(day)), ts(local_start(day + timedelta(days=1)))
    return _queries(
        [
            (_changes_sql(", d.owner_id", ", d.owner_id"), [pipeline.pk, since, until]),
            (_in_stage_sql(by_owner=True), [ts(now), pipeline.pk]),
        ]
    )


def _forecast_baseline(start, end, today):
    """The forecast's numbers (see pipeline.selectors.forecast) for every deal."""
    window_start = today.replace(year=today.year - 1) + timedelta(days=1)
    return _queries(
        [
            (
                "SELECT SUM(d.amount) FROM pipeline_deal d WHERE d.deleted_at IS NULL "
                "AND d.status = 'won' AND d.closed_at >= %s AND d.closed_at <= %s",
                [start, end],
            ),
            (
                "SELECT d.stage_id, d.forecast_category, SUM(d.amount), "
                "SUM(d.amount * COALESCE(d.probability_override, s.win_probability)) "
                "FROM pipeline_deal d JOIN pipeline_stage s ON s.id = d.stage_id "
                "WHERE d.deleted_at IS NULL AND d.status = 'open' AND d.expected_close >= %s "
                "AND d.expected_close <= %s AND d.forecast_category <> 'omitted' "
                "GROUP BY d.stage_id, d.forecast_category",
                [start, end],
            ),
            (
                "SELECT sc.to_stage_id, COUNT(DISTINCT d.id), "
                "COUNT(DISTINCT CASE WHEN d.status = 'won' THEN d.id END) "
                "FROM pipeline_stagechange sc JOIN pipeline_deal d ON d.id = sc.deal_id "
                "JOIN pipeline_stage ts ON ts.id = sc.to_stage_id WHERE d.deleted_at IS NULL "
                "AND d.status IN ('won', 'lost') AND d.closed_at >= %s AND d.closed_at <= %s "
                "AND NOT ts.is_lost GROUP BY sc.to_stage_id",
                [window_start, today],
            ),
            ("SELECT id, win_probability FROM pipeline_stage", []),
        ]
    )


def _board_baseline(pipeline, rep, cards):
    """One rep's board: totals per open stage and the oldest `cards` deals of each, with
    what a card shows."""
    where = (
        "WHERE d.deleted_at IS NULL AND d.owner_id = %s AND d.pipeline_id = %s "
        "AND d.status = 'open'"
    )
    return _queries(
        [
            (
                f"SELECT d.stage_id, COUNT(*), SUM(d.amount) FROM pipeline_deal d {where} "
                "GROUP BY d.stage_id",
                [rep.pk, pipeline.pk],
            ),
            (
                "SELECT x.*, o.username, o.first_name, o.last_name, s.name, s.name_zh, p.name, "
                "a.name, c.name, pc.name, pc.name_zh FROM (SELECT d.*, ROW_NUMBER() OVER "
                "(PARTITION BY d.stage_id ORDER BY d.stage_entered_at, d.id) AS position "
                f"FROM pipeline_deal d {where}) x "
                "JOIN teams_user o ON o.id = x.owner_id JOIN pipeline_stage s ON s.id = x.stage_id "
                "JOIN pipeline_pipeline p ON p.id = x.pipeline_id "
                "JOIN customers_account a ON a.id = x.account_id "
                "LEFT JOIN customers_contact c ON c.id = x.contact_id "
                "LEFT JOIN pipeline_productcategory pc ON pc.id = x.product_category_id "
                "WHERE x.position <= %s ORDER BY x.stage_entered_at, x.id",
                [rep.pk, pipeline.pk, cards],
            ),
        ]
    )


def _admin():
    from django.contrib.auth.hashers import make_password

    from bench.org import PASSWORD
    from teams.models import Role, User

    admin = User.objects.filter(username=ADMIN).first()
    return admin or User.objects.create(
        username=ADMIN,
        password=make_password(PASSWORD),
        role=Role.ADMIN,
        first_name=ADMIN,
        email=f"{ADMIN}@bench.example",
    )


def _dashboard_path() -> tuple[str, str]:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("dashboards:manager"), "manager dashboard page"
    except NoReverseMatch:
        return reverse("dashboards:home"), "rep home page (no manager dashboard yet)"


def run(*, sizes=None, customer_sizes=None, repeat: int = 10, org: dict | None = None) -> bool:
    from django.core.signals import request_started
    from django.db import reset_queries
    from django.test import Client
    from django.utils import timezone

    from bench.harness import measure, measure_pair, report, timed
    from bench.pipeline import generate_pipeline
    from pipeline import selectors, services
    from pipeline.models import Pipeline

    with timed("data generation (reuses earlier rows)"):
        data = generate_pipeline(sizes=sizes, customer_sizes=customer_sizes, org=org)
    print(f"rows: {data['deals']:,} deals, {data['stage_changes']:,} stage changes")
    org = data["org"]
    admin = _admin()
    region_team, manager = org["regions"][0]
    rep = next(user for user in org["reps"] if user.team.path.startswith(region_team.path))
    pipeline = Pipeline.objects.get(is_default=True)
    today = timezone.localdate()
    start = today - timedelta(days=89)
    now = timezone.now()
    heavy = max(2, repeat // 2)
    results = []

    def compare(title, subject, baseline, times):
        timings = measure_pair(title, subject, baseline, repeat=times, warmup=1)
        results.append(report(title, *timings, target_ratio=TARGET_RATIO))

    everyone = selectors.Scope("all")
    compare(
        "funnel, whole company, 90 days (admin)",
        lambda: selectors.funnel(
            viewer=admin, pipeline=pipeline, start=start, end=today, scope=everyone, now=now
        ),
        _funnel_baseline(pipeline, start, today, now),
        heavy,
    )
    reps_below = sum(1 for user in org["reps"] if user.team.path.startswith(region_team.path))
    region = selectors.resolve_scope(viewer=manager, kind="team", team_id=region_team.pk)
    compare(
        f"funnel, regional manager ({reps_below} reps)",
        lambda: selectors.funnel(
            viewer=manager, pipeline=pipeline, start=start, end=today, scope=region, now=now
        ),
        _funnel_baseline(pipeline, start, today, now, path=region_team.path),
        heavy,
    )
    yesterday = today - timedelta(days=1)
    compare(
        "nightly funnel rollup of one day",
        lambda: services.funnel_rollup(day=yesterday, now=now),
        _rollup_baseline(pipeline, yesterday, now),
        heavy,
    )
    month_start, month_end = selectors.period_bounds("month", today)
    compare(
        "forecast, whole company, this month",
        lambda: selectors.forecast(viewer=admin, scope=everyone, period="month"),
        _forecast_baseline(month_start, month_end, today),
        heavy,
    )

    def board():
        for column in selectors.board(viewer=rep, pipeline=pipeline):
            list(column["deals"])

    compare(
        "board of one rep",
        board,
        _board_baseline(pipeline, rep, selectors.BOARD_CARDS_PER_COLUMN),
        # A board takes milliseconds: more samples, so one slow moment is not its p95.
        repeat * 5,
    )

    # Requests would empty the query log that the harness counts from.
    request_started.disconnect(reset_queries)
    try:
        client = Client()
        client.force_login(manager)
        path, label = _dashboard_path()

        def page():
            response = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
            assert response.status_code == 200, (path, response.status_code)

        timing = measure(label, page, repeat=repeat)
    finally:
        request_started.connect(reset_queries)
    print(
        f"{label} {path} as {manager.username:<16} p50 {timing.p50 * 1000:8.1f} ms  "
        f"p95 {timing.p95 * 1000:8.1f} ms  queries {timing.queries:3d}"
    )
    return all(results)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full sizes")
    parser.add_argument("--repeat", type=int, default=10, help="timed runs per line")
    args = parser.parse_args(argv)
    _prepare_database()
    _setup_django()
    from django.conf import settings

    from bench.customers import Sizes as CustomerSizes
    from bench.pipeline import Sizes

    settings.ALLOWED_HOSTS = ["*"]
    ok = run(
        sizes=Sizes.scaled(args.scale),
        customer_sizes=CustomerSizes.scaled(args.scale),
        repeat=args.repeat,
    )
    print("all lines within target" if ok else "some lines over target")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

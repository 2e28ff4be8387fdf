"""Benchmark of the performance reports on PostgreSQL:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/salesmgmt_bench \\
        python -m bench.run_performance [--scale 0.01] [--repeat 10]

Creates and migrates the database when needed, fills the bench company (500 reps, their
customers and deals: bench.customers, bench.pipeline), gives every rep a revenue target for
the last full quarter (in bulk, when missing) and the first region a team target for it,
decomposed to its teams and months, then times attainment and pace of all reps for that
quarter, the company-wide leaderboard as an admin sees it and the planning grid of the
region's target. Each is printed with p50, p95 and its query count next to hand-written SQL
computing the same numbers, timed in alternation with it, and their ratio (target: at most
2x at p95).
"""

import argparse
import sys
from datetime import timedelta
from decimal import Decimal

from bench.run_customers import _prepare_database, _setup_django
from bench.run_incentives import last_full_quarter
from bench.run_pipeline import ADMIN, _admin, _queries

TARGET_RATIO = 2.0

# Each person's won revenue over a span of close dates, as actuals_by_user reads it.
WON_SQL = (
    "SELECT d.owner_id, SUM(d.amount) FROM pipeline_deal d WHERE d.deleted_at IS NULL "
    "AND d.status = 'won' AND d.closed_at >= %s AND d.closed_at <= %s "
    "AND d.owner_id = ANY(%s) GROUP BY d.owner_id"
)
# The plain (no segment) revenue targets of a quarter.
PLAIN_TARGET = (
    "t.metric = 'revenue' AND t.period_type = 'quarter' AND t.start = %s "
    "AND t.product_category_id IS NULL AND t.industry_id IS NULL AND t.tier = ''"
)
ATTAINMENT_SQL = f"""
SELECT u.id, u.username, u.first_name, u.last_name, tm.name, COALESCE(a.revenue, 0), t.value,
       ROUND(COALESCE(a.revenue, 0) * 100 / NULLIF(t.value, 0), 1)
FROM teams_user u
LEFT JOIN teams_team tm ON tm.id = u.team_id
LEFT JOIN ({WON_SQL}) a (owner_id, revenue) ON a.owner_id = u.id
LEFT JOIN performance_target t ON t.user_id = u.id AND {PLAIN_TARGET}
WHERE u.id = ANY(%s)
ORDER BY u.username
"""
LEADERBOARD_SQL = f"""
SELECT u.id, u.username, u.first_name, u.last_name, tm.name, COALESCE(a.now, 0), t.value,
       RANK() OVER (ORDER BY COALESCE(a.now, 0) DESC),
       RANK() OVER (ORDER BY COALESCE(a.then, 0) DESC)
FROM teams_user u
JOIN teams_team tm ON tm.id = u.team_id
LEFT JOIN (
    SELECT d.owner_id,
           SUM(d.amount) FILTER (WHERE d.closed_at >= %s AND d.closed_at <= %s) AS now,
           SUM(d.amount) FILTER (WHERE d.closed_at >= %s AND d.closed_at <= %s) AS then
    FROM pipeline_deal d
    WHERE d.deleted_at IS NULL AND d.status = 'won' AND d.closed_at >= %s AND d.closed_at <= %s
    GROUP BY d.owner_id
) a ON a.owner_id = u.id
LEFT JOIN performance_target t ON t.user_id = u.id AND {PLAIN_TARGET}
WHERE u.is_active AND u.role <> 'admin'
ORDER BY 8, u.username
"""
# A team target's grid: its people and sub-teams, each one's share and their split over the
# months, and the parent's own split over time.
GRID_SQL = [
    (
        "SELECT u.id, u.username, u.first_name, u.last_name FROM teams_user u "
        "WHERE u.team_id = %s AND u.is_active AND u.id <> %s ORDER BY u.username",
        "people",
    ),
    ("SELECT t.id, t.name FROM teams_team t WHERE t.parent_id = %s ORDER BY t.name, t.id", "teams"),
    (
        "SELECT r.id, r.user_id, r.team_id, r.value, r.hand_edited, c.id, c.start, c.value, "
        "c.hand_edited FROM performance_target r LEFT JOIN performance_target c "
        "ON c.parent_id = r.id AND c.period_type = 'month' "
        "AND c.user_id IS NOT DISTINCT FROM r.user_id AND c.team_id IS NOT DISTINCT FROM r.team_id "
        "WHERE r.parent_id = %s AND r.period_type = 'quarter' AND r.start = %s AND r.\"end\" = %s "
        "ORDER BY r.id, c.start",
        "rows",
    ),
    (
        "SELECT t.start, t.value FROM performance_target t WHERE t.parent_id = %s "
        "AND t.user_id IS NULL AND t.team_id = %s AND t.period_type <> 'quarter'",
        "columns",
    ),
]


def prepare(reps, quarter, admin, region_team):
    """Every rep's revenue target for the quarter (bulk, when missing), the company-wide
    leaderboard setting and the region's quarter target decomposed to its teams and months.
    Returns the region's target."""
    from performance import services
    from performance.models import PerformanceSettings, Target

    have = set(
        Target.objects.filter(
            metric="revenue",
            period_type="quarter",
            start=quarter[0],
            user__in=reps,
            product_category__isnull=True,
            industry__isnull=True,
            tier="",
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
    settings = PerformanceSettings.load()
    if settings.leaderboard_scope != PerformanceSettings.LeaderboardScope.COMPANY:
        settings.leaderboard_scope = PerformanceSettings.LeaderboardScope.COMPANY
        settings.save()
    region_target = Target.objects.filter(
        team=region_team,
        metric="revenue",
        period_type="quarter",
        start=quarter[0],
        product_category__isnull=True,
        industry__isnull=True,
        tier="",
    ).first()
    if region_target is None:
        region_target = services.target_create(
            by=admin,
            team=region_team,
            metric="revenue",
            period_type="quarter",
            start=quarter[0],
            value=Decimal("30000000"),
        )
    if not region_target.children.exists():
        services.target_plan_decompose(by=admin, target=region_target, overwrite=True)
    return region_target


def _grid_baseline(parent):
    params = {
        "people": [parent.team_id, parent.team.manager_id or 0],
        "teams": [parent.team_id],
        "rows": [parent.pk, parent.start, parent.end],
        "columns": [parent.pk, parent.team_id],
    }
    return _queries([(sql, params[name]) for sql, name in GRID_SQL])


def run(*, sizes=None, customer_sizes=None, repeat: int = 10, org: dict | None = None) -> bool:
    from django.utils import timezone

    from bench.harness import measure_pair, raw_sql, report, timed
    from bench.pipeline import generate_pipeline
    from performance import selectors
    from teams.models import Role, User

    with timed("data generation (reuses earlier rows)"):
        data = generate_pipeline(sizes=sizes, customer_sizes=customer_sizes, org=org)
    print(f"rows: {data['deals']:,} deals")
    org = data["org"]
    admin = _admin()
    region_team, _manager = org["regions"][0]
    reps = [user for user in org["reps"] if user.role == Role.REP]
    quarter = last_full_quarter(timezone.localdate())
    with timed("targets (bulk, when missing)"):
        region_target = prepare(reps, quarter, admin, region_team)
    ids = [rep.pk for rep in reps]
    start, end = quarter
    week_ago = end - timedelta(days=7)
    results = []

    def compare(title, subject, baseline):
        timings = measure_pair(title, subject, baseline, repeat=repeat, warmup=1)
        results.append(report(title, *timings, target_ratio=TARGET_RATIO))

    compare(
        f"attainment of {len(reps)} reps, last quarter",
        lambda: selectors.users_attainment(
            users=User.objects.filter(pk__in=ids),
            metric="revenue",
            period_type="quarter",
            on=end,
        ),
        raw_sql(ATTAINMENT_SQL, [start, end, ids, start, ids]),
    )
    compare(
        f"leaderboard, company ({ADMIN})",
        lambda: selectors.leaderboard(
            viewer=admin, metric="revenue", period_type="quarter", on=end
        ),
        raw_sql(
            LEADERBOARD_SQL,
            [start, end, start, week_ago, start, end, start],
        ),
    )
    reps_below = User.objects.filter(role=Role.REP, team__path__startswith=region_team.path).count()
    rows = len(selectors.planning_grid(viewer=admin, parent=region_target)["rows"])
    compare(
        f"planning grid, {region_team.name} ({rows} rows, {reps_below} reps)",
        lambda: selectors.planning_grid(viewer=admin, parent=region_target),
        _grid_baseline(region_target),
    )
    return all(results)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full sizes")
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per line")
    args = parser.parse_args(argv)
    _prepare_database()
    _setup_django()
    from bench.customers import Sizes as CustomerSizes
    from bench.pipeline import Sizes

    ok = run(
        sizes=Sizes.scaled(args.scale),
        customer_sizes=CustomerSizes.scaled(args.scale),
        repeat=args.repeat,
    )
    print("all lines within target" if ok else "some lines over target")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

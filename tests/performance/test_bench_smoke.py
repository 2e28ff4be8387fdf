"""The performance benchmark at a tiny scale: its set-up gives every bench rep a quarter
target once and splits a region's target to its teams and months, every line of the
benchmark runs, and its hand-written SQL gives the selectors' numbers. (The benchmark itself
runs on PostgreSQL only, outside the suite: python -m bench.run_performance.)"""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from bench import run_performance
from bench.customers import Sizes as CustomerSizes
from bench.org import generate_org
from bench.pipeline import Sizes, generate_pipeline
from bench.run_pipeline import _admin
from performance import selectors
from performance.models import PerformanceSettings, Target
from teams.models import Role, User

pytestmark = pytest.mark.django_db

CUSTOMERS = CustomerSizes(accounts=60, contacts=80, interactions=100)
ONLY_POSTGRESQL = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the hand-written SQL is PostgreSQL's"
)


def _setup(deals=300):
    org = generate_org(regions=2, teams_per_region=2, reps_per_team=3)
    generate_pipeline(
        sizes=Sizes(deals=deals), customer_sizes=CUSTOMERS, org=org, log=lambda line: None
    )
    reps = list(User.objects.filter(role=Role.REP, username__startswith="bench_rep"))
    quarter = run_performance.last_full_quarter(timezone.localdate())
    return org, reps, quarter


def test_setup_adds_targets_once_and_splits_the_region():
    org, reps, quarter = _setup()
    admin, region_team = _admin(), org["regions"][0][0]
    region_target = run_performance.prepare(reps, quarter, admin, region_team)
    count = Target.objects.count()
    assert run_performance.prepare(reps, quarter, admin, region_team) == region_target
    assert Target.objects.count() == count  # a rerun adds nothing
    assert set(
        Target.objects.filter(start=quarter[0], user__isnull=False).values_list("user", flat=True)
    ) == {rep.pk for rep in reps}
    assert PerformanceSettings.load().leaderboard_scope == "company"

    grid = selectors.planning_grid(viewer=admin, parent=region_target)
    assert [row["name"] for row in grid["rows"]] == [f"{region_team.name} team {n}" for n in (1, 2)]
    assert all(row["difference"] == 0 and len(row["cells"]) == 3 for row in grid["rows"])
    assert grid["cells_total"] == grid["row_target_total"] == region_target.value


def _sql(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@ONLY_POSTGRESQL
def test_benchmark_runs_every_line_and_its_sql_gives_the_same_numbers(capsys):
    org, reps, quarter = _setup()
    assert run_performance.run(
        sizes=Sizes(deals=300), customer_sizes=CUSTOMERS, repeat=2, org=org
    ) in (True, False)
    output = capsys.readouterr().out
    for line in ("attainment of 12 reps", "leaderboard, company", "planning grid, Region 1"):
        assert line in output, output

    start, end = quarter
    ids = [rep.pk for rep in reps]
    rows = _sql(run_performance.ATTAINMENT_SQL, [start, end, ids, start, ids])
    attained = selectors.users_attainment(
        users=User.objects.filter(pk__in=ids), metric="revenue", period_type="quarter", on=end
    )
    assert any(row["actual"] for row in attained)
    assert [(r[0], r[5], r[6], r[7]) for r in rows] == [
        (row["user"].pk, row["actual"], row["target"], row["percent"]) for row in attained
    ]

    admin = _admin()
    board = selectors.leaderboard(viewer=admin, metric="revenue", period_type="quarter", on=end)
    params = [start, end, start, end - timedelta(days=7), start, end, start]
    rows = _sql(run_performance.LEADERBOARD_SQL, params)
    assert sorted((r[0], r[5], r[6], r[7], r[8]) for r in rows) == sorted(
        (row["user"].pk, row["actual"], row["target"], row["rank"], row["previous_rank"])
        for row in board["rows"]
    )

    region_target = Target.objects.get(team=org["regions"][0][0], start=start)
    grid = selectors.planning_grid(viewer=admin, parent=region_target)
    _people, _teams, cells, columns = run_performance._grid_baseline(region_target)()
    assert sorted((r[2], r[6], r[7]) for r in cells) == sorted(
        (row["target"].team_id, cell.start, cell.value)
        for row in grid["rows"]
        for cell in row["cells"]
    )
    assert columns == []  # the region's own target is split over its teams only

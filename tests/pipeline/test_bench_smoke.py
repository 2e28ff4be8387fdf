"""The pipeline benchmark at a tiny scale: the generator writes deals whose history holds
together and the reports read them, a rerun only adds what is missing, and every line of the
benchmark runs. (The benchmark itself runs on PostgreSQL only, outside the suite: python -m
bench.run_pipeline.)"""

from collections import defaultdict
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.utils import timezone

from bench import run_pipeline
from bench.customers import Sizes as CustomerSizes
from bench.org import generate_org
from bench.pipeline import Sizes, generate_pipeline
from pipeline import selectors
from pipeline.models import Deal, Pipeline, StageChange

pytestmark = pytest.mark.django_db

CUSTOMERS = CustomerSizes(accounts=60, contacts=80, interactions=100)


def test_generator_writes_consistent_deals_and_reruns_safely():
    org = generate_org(regions=2, teams_per_region=2, reps_per_team=2)
    counts = generate_pipeline(
        sizes=Sizes(deals=200), customer_sizes=CUSTOMERS, org=org, log=lambda line: None
    )
    assert (counts["deals"], counts["stage_changes"]) == (200, 1000)
    now = timezone.now()

    history = defaultdict(list)
    for change in StageChange.objects.order_by("deal_id", "changed_at", "id"):
        history[change.deal_id].append(change)
    for deal in Deal.objects.select_related("stage", "account", "owner"):
        deal.full_clean()
        changes = history[deal.pk]
        assert changes[0].from_stage_id is None and changes[0].changed_at == deal.created_at
        for before, after in zip(changes, changes[1:], strict=False):
            assert after.from_stage_id == before.to_stage_id
            seconds = Decimal((after.changed_at - before.changed_at).total_seconds())
            assert after.days_in_previous_stage == (seconds / 86400).quantize(
                Decimal("0.01"), ROUND_HALF_UP
            )
        assert (changes[-1].to_stage_id, changes[-1].changed_at) == (
            deal.stage_id,
            deal.stage_entered_at,
        )
        assert changes[-1].changed_at <= now
        assert deal.owner_id in {deal.account.owner_id, deal.account.released_by_id}
        assert Decimal("20000") <= deal.amount <= Decimal("2000000")
        if deal.status == Deal.Status.OPEN:
            assert not deal.stage.is_closed and deal.expected_close >= timezone.localdate()
            if deal.stage.sla_days:
                assert deal.stage_due_at == deal.stage_entered_at + timedelta(
                    days=deal.stage.sla_days
                )
        else:
            assert deal.closed_at == timezone.localdate(deal.stage_entered_at)
            assert deal.stage.is_won == (deal.status == Deal.Status.WON)
    statuses = set(Deal.objects.values_list("status", flat=True))
    assert statuses == {"open", "won", "lost"}

    region_team, manager = org["regions"][0]
    pipeline = Pipeline.objects.get(is_default=True)
    today = timezone.localdate()
    report = selectors.funnel(
        viewer=manager,
        pipeline=pipeline,
        start=today - timedelta(days=400),
        end=today,
        scope=selectors.Scope("all"),
    )
    assert sum(row["entered"] for row in report["stages"]) > 0
    assert 0 < report["won"] < Deal.objects.filter(status="won").count()

    bigger = generate_pipeline(
        sizes=Sizes(deals=240), customer_sizes=CUSTOMERS, org=org, log=lambda line: None
    )
    assert (bigger["deals"], bigger["stage_changes"]) == (240, 1200)
    assert Deal.objects.filter(external_id="bench-d-1").count() == 1


def test_benchmark_runs_every_line(capsys):
    org = generate_org(regions=2, teams_per_region=2, reps_per_team=2)
    assert run_pipeline.run(
        sizes=Sizes(deals=200), customer_sizes=CUSTOMERS, repeat=2, org=org
    ) in (True, False)
    output = capsys.readouterr().out
    for line in (
        "funnel, whole company",
        "funnel, regional manager",
        "nightly funnel rollup",
        "forecast, whole company",
        "board of one rep",
        "page",
    ):
        assert line in output, output

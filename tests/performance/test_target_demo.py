"""`seed_demo` adds this year's company revenue target, decomposed through the services to
regions, squads and reps and over quarters, months and weeks, every split summing exactly,
with some reps ahead of pace and some behind."""

import io
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command

from performance import periods, selectors
from performance.models import Target
from pipeline.selectors import Scope
from teams.models import Role, User

pytestmark = pytest.mark.django_db


def test_the_demo_company_has_its_targets_split_exactly():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "Performance:" in out.getvalue()
    today = periods.today()
    year = Target.objects.get(parent__isnull=True)
    assert (year.period_type, year.start.year, year.team.parent) == ("year", today.year, None)
    assert year.value > 0 and year.value % 1_000_000 == 0

    splits = defaultdict(list)
    for child in Target.objects.filter(parent__isnull=False).select_related("parent"):
        parent = child.parent
        kind = (
            "time" if (child.user_id, child.team_id) == (parent.user_id, parent.team_id) else "team"
        )
        splits[(parent.pk, kind)].append(child)
    values = dict(Target.objects.values_list("pk", "value"))
    assert splits
    for (parent_id, _kind), children in splits.items():
        assert sum(c.value for c in children) == values[parent_id]
    reps = User.objects.filter(role=Role.REP)
    assert Target.objects.filter(user__in=reps, period_type="week").count() >= reps.count() * 52

    behind = ahead = 0
    for rep in reps:
        result = selectors.attainment(
            viewer=rep, scope=Scope("me", user=rep), metric="revenue", period_type="year"
        )
        if result["expected"]:
            behind += result["behind"]
            ahead += not result["behind"]
    assert behind and ahead

    again = io.StringIO()
    count = Target.objects.count()
    call_command("seed_demo", stdout=again)
    assert Target.objects.count() == count
    assert Decimal(year.value) == Target.objects.get(pk=year.pk).value

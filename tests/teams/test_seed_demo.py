"""`manage.py seed_demo` builds the demo company and is safe to run twice."""

import io

import pytest
from django.core.management import call_command

from teams.models import LadderLevel, Role, Team, User

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def snapshot():
    return (
        sorted(User.objects.values_list("username", flat=True)),
        sorted(Team.objects.values_list("path", flat=True)),
        LadderLevel.objects.count(),
    )


def test_seed_demo_builds_the_company_and_is_safe_to_run_twice():
    output = seed()
    first = snapshot()
    assert seed()
    assert snapshot() == first

    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("salesdemo")
    assert "admin" in output and "salesdemo" in output

    head_office = Team.objects.get(depth=0)
    regions = Team.objects.filter(parent=head_office)
    assert regions.count() == 3
    for region in regions:
        assert region.manager is not None
        reps = User.objects.filter(team__path__startswith=region.path, role=Role.REP)
        assert 4 <= reps.count() <= 6
        supervisors = User.objects.filter(team__path__startswith=region.path, role=Role.SUPERVISOR)
        assert supervisors.count() == 2
        # The regional manager sees the whole region, and nobody from the other regions.
        seen = User.objects.visible_to(region.manager)
        assert set(seen.values_list("pk", flat=True)) >= set(reps.values_list("pk", flat=True))
        assert not seen.exclude(team__path__startswith=region.path).exists()
    assert LadderLevel.objects.exclude(name_zh="").count() >= 5

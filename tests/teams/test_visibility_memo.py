"""Within one request the visibility rule reads the viewer's managed teams once; a team
saved meanwhile makes it read them again, and outside a request nothing is remembered."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Account
from teams import services
from teams.models import User
from teams.selectors import remembered_visibility
from tests.customers.factories import AccountFactory

pytestmark = pytest.mark.django_db


def managed_team_reads(captured) -> int:
    return sum(
        1
        for query in captured.captured_queries
        if query["sql"].startswith("SELECT path FROM teams_team")
    )


def visible_account_names(user) -> set[str]:
    return set(Account.objects.visible_to(user).values_list("name", flat=True))


def test_a_request_reads_the_managed_teams_once(org):
    with remembered_visibility(), CaptureQueriesContext(connection) as captured:
        for _ in range(3):
            list(User.objects.visible_to(org.east_mgr))
    assert managed_team_reads(captured) == 1


def test_outside_a_request_every_read_is_fresh(org):
    with CaptureQueriesContext(connection) as captured:
        for _ in range(3):
            list(User.objects.visible_to(org.east_mgr))
    assert managed_team_reads(captured) == 3


def test_a_team_saved_during_the_request_changes_what_follows(org):
    AccountFactory(owner=org.rep_north, name="Northern Star")
    with remembered_visibility():
        assert "Northern Star" not in visible_account_names(org.east_mgr)
        services.team_set_manager(by=org.admin, team=org.north, manager=org.east_mgr)
        assert "Northern Star" in visible_account_names(org.east_mgr)


def test_a_deactivated_manager_sees_no_team_afterwards_in_the_same_request(org):
    AccountFactory(owner=org.rep_a, name="Eastern Gate")
    with remembered_visibility():
        assert "Eastern Gate" in visible_account_names(org.sup_a)
        services.user_deactivate(by=org.admin, user=org.sup_a)
        org.sup_a.refresh_from_db()
        org.sup_a.is_active = True  # as if still signed in: only the teams matter here
        assert "Eastern Gate" not in visible_account_names(org.sup_a)

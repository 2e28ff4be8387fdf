"""The visibility rule reads the viewer's managed teams inside each statement, so it costs no
query of its own and sees a team saved during the request. The managed teams that pages ask
for themselves (whether to show manager tools, say) are read once per request."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Account
from teams import services
from teams.models import User
from teams.selectors import is_manager, remembered_visibility
from tests.customers.factories import AccountFactory

pytestmark = pytest.mark.django_db


def managed_team_reads(captured) -> int:
    return sum(
        1
        for query in captured.captured_queries
        if query["sql"].startswith('SELECT "teams_team"."path"')
    )


def visible_account_names(user) -> set[str]:
    return set(Account.objects.visible_to(user).values_list("name", flat=True))


def test_applying_the_rule_costs_no_query_of_its_own(org):
    with remembered_visibility(), CaptureQueriesContext(connection) as captured:
        names = {user.username for user in User.objects.visible_to(org.east_mgr)}
    assert len(captured.captured_queries) == 1
    assert {"east_mgr", "sup_a", "rep_a1x", "rep_b"} <= names
    assert not names & {"head", "north_mgr", "rep_north"}


def test_a_request_reads_the_managed_teams_once(org):
    with remembered_visibility(), CaptureQueriesContext(connection) as captured:
        for _ in range(3):
            assert is_manager(org.east_mgr)
    assert managed_team_reads(captured) == 1


def test_outside_a_request_every_read_is_fresh(org):
    with CaptureQueriesContext(connection) as captured:
        for _ in range(3):
            assert is_manager(org.east_mgr)
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

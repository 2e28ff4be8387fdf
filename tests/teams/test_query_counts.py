"""List pages and list endpoints cost the same number of queries for 5 rows and for 50."""

import itertools

import pytest

from teams import services
from tests.factories import LadderLevelFactory, ManagerFactory, RepFactory, TeamFactory
from tests.utils import assert_constant_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def company(db):
    """A manager on top of a root team; `grow(n)` adds n people, each heading a new team
    below the root and on one of three ladder levels, so every row has a team, a level and a
    manager to show."""
    root = TeamFactory(name="Root")
    boss = ManagerFactory(username="boss", team=root)
    levels = itertools.cycle([LadderLevelFactory() for _ in range(3)])

    def grow(n):
        for _ in range(n):
            team = TeamFactory(parent=root)
            lead = RepFactory(team=team, ladder_level=next(levels))
            services.team_set_manager(by=None, team=team, manager=lead)

    return boss, grow


@pytest.mark.parametrize("path", ["/people/", "/org/", "/"])
def test_pages_do_not_grow_in_queries_with_people(company, client, path):
    boss, grow = company
    client.force_login(boss)
    assert_constant_queries(grow, lambda: client.get(path))


def test_people_directory_htmx_table(company, client):
    boss, grow = company
    client.force_login(boss)
    assert_constant_queries(grow, lambda: client.get("/people/?q=user", HTTP_HX_REQUEST="true"))


@pytest.mark.parametrize("path", ["/api/v1/users/", "/api/v1/teams/"])
def test_api_lists_do_not_grow_in_queries(company, token_client, path):
    boss, grow = company
    api = token_client(boss)
    assert_constant_queries(grow, lambda: api.get(path))


def test_users_api_for_an_admin(company, token_client):
    _boss, grow = company
    admin = RepFactory(username="ops", is_superuser=True)
    api = token_client(admin)
    assert_constant_queries(grow, lambda: api.get("/api/v1/users/"))


def test_the_helper_catches_an_n_plus_one(company, client):
    """The helper itself must fail on a list that queries once per row."""
    from teams.models import User

    _boss, grow = company

    def n_plus_one():
        return [user.team.name for user in User.objects.filter(team__isnull=False)]

    with pytest.raises(AssertionError):
        assert_constant_queries(grow, n_plus_one)

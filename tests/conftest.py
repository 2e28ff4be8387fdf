import copy
import uuid
from types import SimpleNamespace

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from teams.models import Role
from tests.factories import (
    PASSWORD,
    AdminFactory,
    LadderLevelFactory,
    ManagerFactory,
    RepFactory,
    TeamFactory,
    UserFactory,
)


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    """Each test gets its own cache namespace, so throttling counters (kept in the cache)
    never leak between tests or between runs against a shared Redis."""
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    if caches["default"]["BACKEND"].endswith("LocMemCache"):
        caches["default"]["LOCATION"] = uuid.uuid4().hex
    settings.CACHES = caches


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def org(db):
    """A five-level team tree with a manager at every level and a rep in every team.

        head_office (head)                      depth 0
        ├── east (east_mgr)                     depth 1
        │   ├── east_a (sup_a)                  depth 2
        │   │   └── east_a1 (lead_a1)           depth 3
        │   │       └── east_a1x (lead_a1x)     depth 4
        │   └── east_b (sup_b)                  depth 2
        └── north (north_mgr)                   depth 1

    Reps: rep_east, rep_a, rep_a1, rep_a1x, rep_b, rep_north. admin has role admin and no
    team; root is a superuser with role rep.
    """
    levels = SimpleNamespace(
        junior=LadderLevelFactory(code="junior", rank=1, name="Junior rep", name_zh="初级销售"),
        senior=LadderLevelFactory(code="senior", rank=2, name="Senior rep", name_zh="高级销售"),
    )
    o = SimpleNamespace(levels=levels)
    o.head_office = TeamFactory(name="Head office")
    o.east = TeamFactory(name="East", parent=o.head_office, region="East")
    o.north = TeamFactory(name="North", parent=o.head_office, region="North")
    o.east_a = TeamFactory(name="East A", parent=o.east)
    o.east_b = TeamFactory(name="East B", parent=o.east)
    o.east_a1 = TeamFactory(name="East A1", parent=o.east_a)
    o.east_a1x = TeamFactory(name="East A1x", parent=o.east_a1)

    o.head = ManagerFactory(username="head", team=o.head_office)
    o.east_mgr = ManagerFactory(username="east_mgr", team=o.east)
    o.north_mgr = ManagerFactory(username="north_mgr", team=o.north)
    o.sup_a = ManagerFactory(username="sup_a", team=o.east_a, role=Role.SUPERVISOR)
    o.sup_b = ManagerFactory(username="sup_b", team=o.east_b, role=Role.SUPERVISOR)
    o.lead_a1 = ManagerFactory(username="lead_a1", team=o.east_a1, role=Role.SUPERVISOR)
    o.lead_a1x = ManagerFactory(username="lead_a1x", team=o.east_a1x, role=Role.SUPERVISOR)

    o.rep_east = RepFactory(username="rep_east", team=o.east, ladder_level=levels.junior)
    o.rep_a = RepFactory(username="rep_a", team=o.east_a, ladder_level=levels.senior)
    o.rep_a1 = RepFactory(username="rep_a1", team=o.east_a1, ladder_level=levels.junior)
    o.rep_a1x = RepFactory(username="rep_a1x", team=o.east_a1x, ladder_level=levels.junior)
    o.rep_b = RepFactory(username="rep_b", team=o.east_b, ladder_level=levels.senior)
    o.rep_north = RepFactory(username="rep_north", team=o.north, ladder_level=levels.junior)

    o.admin = AdminFactory(username="admin")
    o.root = UserFactory(username="root", is_superuser=True)
    return o


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def token_client():
    """Returns an API client authenticated by a token for the given user."""

    def make(user):
        client = APIClient()
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


@pytest.fixture
def client_for(db):
    """Returns a (fresh) browser client signed in as the given user."""
    from django.test import Client

    def make(user):
        new = Client()
        new.force_login(user)
        return new

    return make


def pytest_configure(config):
    # WhiteNoise warns when collectstatic has not run; tests serve no static files from there.
    config.addinivalue_line("filterwarnings", "ignore:No directory at:UserWarning")

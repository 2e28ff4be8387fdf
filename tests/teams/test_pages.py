"""The teams pages and the Django admin for users, teams and ladder levels."""

import re

import pytest

from teams import services
from teams.models import Team, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def english(org):
    """Everyone in the org reads English, so the tests can look for English labels."""
    User.objects.update(preferred_language="en")
    for name in vars(org):
        obj = getattr(org, name)
        if isinstance(obj, User):
            obj.refresh_from_db()
    return org


def test_a_reps_home_shows_team_level_and_manager(english, client_for):
    org = english
    content = client_for(org.rep_a).get("/").content.decode()
    assert "East A" in content
    assert "Senior rep" in content
    assert org.sup_a.display_name in content
    assert f'href="/people/{org.sup_a.pk}/"' not in content
    assert "My reports" not in content


def test_a_managers_home_shows_their_team_and_member_count(english, client_for):
    org = english
    content = client_for(org.sup_a).get("/").content.decode()
    assert "My reports" in content
    assert "East A: 2 members" in content


def test_the_org_chart_shows_active_member_counts_and_managers(english, client_for):
    org = english
    services.user_deactivate(by=org.admin, user=org.rep_a)
    content = client_for(org.east_mgr).get("/org/").content.decode()
    node = content[content.index("<strong>East A</strong>") :]
    node = node[: node.index("</div>")]
    assert "1 member" in node and "2 members" not in node
    assert f'href="/people/{org.sup_a.pk}/"' in node
    # The tree is nested: East A1x sits inside East A1, which sits inside East A.
    nested = r"East A</strong>.*<ul>.*East A1</strong>.*<ul>.*East A1x</strong>"
    assert re.search(nested, content, re.S)


def test_the_org_chart_of_a_person_without_a_team(english, client_for):
    content = client_for(english.admin).get("/org/").content.decode()
    assert "Head office" in content  # an admin sees the whole tree
    loner = services.user_create(by=None, username="loner", preferred_language="en")
    content = client_for(loner).get("/org/").content.decode()
    assert "You are not in a team yet." in content


def test_the_person_page(english, client_for):
    org = english
    content = client_for(org.east_mgr).get(f"/people/{org.rep_a1.pk}/").content.decode()
    assert "rep_a1" in content and "East A1" in content
    assert f'href="/people/{org.lead_a1.pk}/"' in content  # reports to


def test_the_people_directory_filters_by_active(english, client_for):
    org = english
    services.user_deactivate(by=org.admin, user=org.rep_b)
    browser = client_for(org.sup_b)
    assert "rep_b" in browser.get("/people/").content.decode()
    assert "rep_b" not in browser.get("/people/?is_active=true").content.decode()
    assert "rep_b" in browser.get("/people/?is_active=false").content.decode()


def test_the_admin_lists_users_teams_and_levels_with_search_and_filters(org, client):
    client.force_login(org.root)
    response = client.get("/admin/teams/user/?q=rep_a1&role__exact=rep")
    assert response.status_code == 200
    assert "rep_a1x" in response.content.decode()
    assert "rep_north" not in response.content.decode()
    assert client.get("/admin/teams/team/?q=East&depth=2").status_code == 200
    assert client.get("/admin/teams/ladderlevel/?q=senior").status_code == 200


def test_a_team_added_in_the_admin_gets_its_place_in_the_tree(org, client):
    client.force_login(org.root)
    response = client.post(
        "/admin/teams/team/add/",
        {"name": "East A2", "parent": org.east_a.pk, "manager": "", "region": "East"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    team = Team.objects.get(name="East A2")
    assert team.path == f"{org.east_a.path}{team.pk}/" and team.depth == 3
    assert "East A2" in {t.name for t in Team.objects.visible_to(org.sup_a)}


def test_a_team_moved_in_the_admin_takes_its_subtree(org, client):
    client.force_login(org.root)
    response = client.post(
        f"/admin/teams/team/{org.east_a.pk}/change/",
        {"name": "East A", "parent": org.north.pk, "manager": org.sup_a.pk, "region": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Team.objects.get(pk=org.east_a1x.pk).path.startswith(org.north.path)
    seen = set(User.objects.visible_to(org.north_mgr).values_list("username", flat=True))
    assert "rep_a1x" in seen


def test_people_without_staff_access_cannot_open_the_admin(org, client_for):
    response = client_for(org.east_mgr).get("/admin/teams/user/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]

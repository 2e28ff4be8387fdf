"""The visibility rule over every page and endpoint of the teams app, for a generated org: a
record outside the viewer's visible set answers 404, never 403."""

import re

import pytest

from teams.models import Team, User
from tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db

VIEWERS = ["rep_a", "lead_a1x", "sup_a", "east_mgr", "north_mgr", "head", "admin"]


def visible_usernames(viewer):
    return set(User.objects.visible_to(viewer).values_list("username", flat=True))


def visible_team_names(viewer):
    return set(Team.objects.visible_to(viewer).values_list("name", flat=True))


@pytest.mark.parametrize("who", VIEWERS)
def test_person_pages_and_user_endpoints(org, client_for, token_client, who):
    viewer = getattr(org, who)
    visible = visible_usernames(viewer)
    browser, api = client_for(viewer), token_client(viewer)
    for user in User.objects.all():
        expected = 200 if user.username in visible else 404
        assert browser.get(f"/people/{user.pk}/").status_code == expected, user.username
        assert api.get(f"/api/v1/users/{user.pk}/").status_code == expected, user.username
    listed = {row["username"] for row in api.get("/api/v1/users/?page_size=500").json()["results"]}
    assert listed == visible


@pytest.mark.parametrize("who", VIEWERS)
def test_team_endpoints_and_the_org_chart(org, client_for, token_client, who):
    viewer = getattr(org, who)
    visible = visible_team_names(viewer)
    api = token_client(viewer)
    for team in Team.objects.all():
        expected = 200 if team.name in visible else 404
        assert api.get(f"/api/v1/teams/{team.pk}/").status_code == expected, team.name
    listed = {row["name"] for row in api.get("/api/v1/teams/").json()["results"]}
    assert listed == visible
    chart = client_for(viewer).get("/org/").content.decode()
    shown = set(re.findall(r"<strong>([^<]+)</strong>", chart))
    assert shown == visible


@pytest.mark.parametrize("who", VIEWERS)
def test_the_people_directory(org, client_for, who):
    viewer = getattr(org, who)
    content = client_for(viewer).get("/people/").content.decode()
    shown = set(re.findall(r'<span class="muted">([\w.]+)</span></td>', content))
    assert shown == visible_usernames(viewer)


def test_the_people_filters_on_the_page(org, client_for):
    browser = client_for(org.east_mgr)

    def shown(query):
        content = browser.get(f"/people/?{query}").content.decode()
        return set(re.findall(r'<span class="muted">([\w.]+)</span></td>', content))

    assert shown(f"team={org.east_a1.pk}") == {"lead_a1", "rep_a1", "lead_a1x", "rep_a1x"}
    assert shown("role=supervisor") == {"sup_a", "sup_b", "lead_a1", "lead_a1x"}
    assert shown("q=a1x") == {"lead_a1x", "rep_a1x"}
    assert shown(f"ladder_level={org.levels.senior.pk}") == {"rep_a", "rep_b"}
    # A team outside the visible set is refused as a choice and widens nothing.
    assert shown(f"team={org.north.pk}") == visible_usernames(org.east_mgr)
    # htmx gets the table alone.
    partial = browser.get("/people/?q=a1x", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "rep_a1x" in partial


def test_a_person_page_shows_direct_reports_and_hides_the_rest(org, client_for):
    content = client_for(org.sup_a).get(f"/people/{org.sup_a.pk}/").content.decode()
    assert f"/people/{org.rep_a.pk}/" in content
    assert f"/people/{org.lead_a1.pk}/" in content  # manager of the team just below
    assert f"/people/{org.rep_a1.pk}/" not in content  # not a direct report
    # sup_a's own manager cannot be opened by sup_a.
    assert client_for(org.sup_a).get(f"/people/{org.east_mgr.pk}/").status_code == 404


def test_notifications_of_others_are_not_found(org, client_for, token_client):
    theirs = NotificationFactory(recipient=org.rep_b)
    # Even a manager who sees rep_b cannot read rep_b's inbox.
    for viewer in (org.sup_b, org.admin):
        assert token_client(viewer).get(f"/api/v1/notifications/{theirs.pk}/").status_code == 404
        response = client_for(viewer).post(f"/notifications/{theirs.pk}/read/")
        assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_home_page_shows_the_managers_reports(org, client_for):
    content = client_for(org.east_mgr).get("/").content.decode()
    for report in (org.rep_east, org.sup_a, org.sup_b):
        assert f"/people/{report.pk}/" in content
    assert f"/people/{org.rep_north.pk}/" not in content
    rep_home = client_for(org.rep_a).get("/").content.decode()
    # The rep reads who they report to, but gets no link to a page they may not open.
    assert org.sup_a.display_name in rep_home
    assert f"/people/{org.sup_a.pk}/" not in rep_home

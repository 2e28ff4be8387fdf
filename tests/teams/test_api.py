"""The users and teams API: tokens, visibility, admin-only writes, filters, schema and docs."""

import re

import pytest

from teams.models import Team, User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def usernames(response):
    assert response.status_code == 200, response.content
    return {row["username"] for row in response.json()["results"]}


def get_token(api_client, username, password=PASSWORD):
    response = api_client.post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )
    return response


def test_token_then_users_returns_what_visibility_allows(org, api_client):
    expected = {
        "rep_a": {"rep_a"},
        "east_mgr": {
            "east_mgr",
            "rep_east",
            "sup_a",
            "rep_a",
            "lead_a1",
            "rep_a1",
            "lead_a1x",
            "rep_a1x",
            "sup_b",
            "rep_b",
        },
        "admin": set(User.objects.values_list("username", flat=True)),
    }
    for username, visible in expected.items():
        response = get_token(api_client, username)
        assert response.status_code == 200
        token = response.json()["token"]
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        assert usernames(api_client.get("/api/v1/users/")) == visible
        api_client.credentials()


def test_a_wrong_password_gets_no_token(org, api_client):
    response = get_token(api_client, "rep_a", "not-the-password")
    assert response.status_code == 400
    assert "token" not in response.json()


def test_users_outside_the_visible_set_are_not_found(org, token_client):
    api = token_client(org.sup_a)
    assert api.get(f"/api/v1/users/{org.rep_a1x.pk}/").status_code == 200
    for outsider in (org.rep_b, org.east_mgr, org.rep_north, org.admin):
        assert api.get(f"/api/v1/users/{outsider.pk}/").status_code == 404
    assert api.get("/api/v1/users/999999/").status_code == 404


def test_teams_outside_the_visible_set_are_not_found(org, token_client):
    api = token_client(org.sup_a)
    listed = {row["name"] for row in api.get("/api/v1/teams/").json()["results"]}
    assert listed == {"East A", "East A1", "East A1x"}
    assert api.get(f"/api/v1/teams/{org.east_a1x.pk}/").status_code == 200
    for outsider in (org.east, org.east_b, org.north, org.head_office):
        assert api.get(f"/api/v1/teams/{outsider.pk}/").status_code == 404


def test_team_detail_shows_member_count_and_depth(org, token_client):
    data = token_client(org.east_mgr).get(f"/api/v1/teams/{org.east_a.pk}/").json()
    assert data["member_count"] == 2
    assert data["depth"] == 2
    assert data["parent"] == org.east.pk
    assert data["manager"] == org.sup_a.pk


@pytest.mark.parametrize("who", ["rep_a", "east_mgr", "head"])
def test_non_admins_cannot_write_users_or_teams(org, token_client, who):
    api = token_client(getattr(org, who))
    users_before = User.objects.count()
    teams_before = Team.objects.count()

    response = api.post(
        "/api/v1/users/", {"username": "sneaky", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 403
    response = api.patch(f"/api/v1/users/{org.rep_a.pk}/", {"role": "admin"}, format="json")
    assert response.status_code == 403
    response = api.patch(f"/api/v1/users/{org.rep_a.pk}/", {"team": org.north.pk}, format="json")
    assert response.status_code == 403
    assert api.delete(f"/api/v1/users/{org.rep_a.pk}/").status_code == 403
    response = api.post("/api/v1/teams/", {"name": "Rogue"}, format="json")
    assert response.status_code == 403
    response = api.patch(
        f"/api/v1/teams/{org.east_a.pk}/",
        {"manager": org.rep_a.pk, "name": "Renamed"},
        format="json",
    )
    assert response.status_code == 403

    assert (User.objects.count(), Team.objects.count()) == (users_before, teams_before)
    rep_a = User.objects.get(pk=org.rep_a.pk)
    assert (rep_a.role, rep_a.team_id, rep_a.is_active) == ("rep", org.east_a.pk, True)
    east_a = Team.objects.get(pk=org.east_a.pk)
    assert (east_a.name, east_a.manager_id) == ("East A", org.sup_a.pk)


def test_admin_creates_a_user_with_a_write_only_password(org, token_client, api_client):
    api = token_client(org.admin)
    response = api.post(
        "/api/v1/users/",
        {
            "username": "newrep",
            "password": "Fresh-Start-4421",
            "team": org.east_b.pk,
            "role": "rep",
            "ladder_level": org.levels.junior.pk,
            "email": "newrep@example.com",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert "password" not in data
    assert data["team"] == org.east_b.pk
    user = User.objects.get(username="newrep")
    assert user.check_password("Fresh-Start-4421")
    assert "password" not in api.get(f"/api/v1/users/{user.pk}/").json()
    assert get_token(api_client, "newrep", "Fresh-Start-4421").status_code == 200
    # The new rep is visible to the managers above their team.
    assert "newrep" in usernames(token_client(org.sup_b).get("/api/v1/users/"))


def test_admin_user_create_validates_with_field_messages(org, token_client):
    api = token_client(org.admin)
    response = api.post(
        "/api/v1/users/",
        {"username": "rep_a", "password": "123", "role": "emperor"},
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()
    assert {"username", "password", "role"} <= set(errors)
    assert User.objects.filter(username="rep_a").count() == 1


def test_admin_updates_a_user(org, token_client):
    api = token_client(org.admin)
    response = api.patch(
        f"/api/v1/users/{org.rep_a.pk}/",
        {"role": "supervisor", "team": org.east_b.pk, "password": "Renewed-Secret-77"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert "password" not in response.json()
    user = User.objects.get(pk=org.rep_a.pk)
    assert (user.role, user.team_id) == ("supervisor", org.east_b.pk)
    assert user.check_password("Renewed-Secret-77")


def test_admin_creates_and_moves_a_team(org, token_client):
    api = token_client(org.admin)
    response = api.post(
        "/api/v1/teams/",
        {"name": "East C", "parent": org.east.pk, "manager": org.rep_east.pk, "region": "East"},
        format="json",
    )
    assert response.status_code == 201, response.content
    team = Team.objects.get(name="East C")
    assert team.path == f"{org.east.path}{team.pk}/"
    assert team.manager == org.rep_east
    assert response.json()["depth"] == 2

    response = api.patch(f"/api/v1/teams/{team.pk}/", {"parent": org.north.pk}, format="json")
    assert response.status_code == 200, response.content
    team.refresh_from_db()
    assert team.path == f"{org.north.path}{team.pk}/"


def test_a_team_cannot_be_moved_below_itself_through_the_api(org, token_client):
    response = token_client(org.admin).patch(
        f"/api/v1/teams/{org.east.pk}/", {"parent": org.east_a1.pk}, format="json"
    )
    assert response.status_code == 400
    assert "parent" in response.json()
    assert Team.objects.get(pk=org.east.pk).path == org.east.path


def test_filters_by_team_role_and_search(org, token_client):
    api = token_client(org.east_mgr)
    assert usernames(api.get(f"/api/v1/users/?team={org.east_a1.pk}")) == {
        "lead_a1",
        "rep_a1",
        "lead_a1x",
        "rep_a1x",
    }
    assert usernames(api.get("/api/v1/users/?role=supervisor")) == {
        "sup_a",
        "sup_b",
        "lead_a1",
        "lead_a1x",
    }
    assert usernames(api.get("/api/v1/users/?q=a1x")) == {"lead_a1x", "rep_a1x"}
    assert usernames(api.get(f"/api/v1/users/?ladder_level={org.levels.senior.pk}")) == {
        "rep_a",
        "rep_b",
    }
    assert usernames(api.get("/api/v1/users/?role=rep&q=rep_a")) == {"rep_a", "rep_a1", "rep_a1x"}


def test_filters_never_reach_outside_the_visible_set(org, token_client):
    api = token_client(org.east_mgr)
    # A team the viewer cannot see is not a valid choice, exactly like a team that does not
    # exist, so the filter cannot be used to probe.
    hidden = api.get(f"/api/v1/users/?team={org.north.pk}")
    missing = api.get("/api/v1/users/?team=999999")
    assert hidden.status_code == missing.status_code == 400
    assert hidden.json() == missing.json()
    assert usernames(api.get("/api/v1/users/?q=north")) == set()


def test_team_filters(org, token_client):
    api = token_client(org.admin)
    names = {
        row["name"] for row in api.get(f"/api/v1/teams/?parent={org.east.pk}").json()["results"]
    }
    assert names == {"East A", "East B"}
    names = {row["name"] for row in api.get("/api/v1/teams/?q=a1").json()["results"]}
    assert names == {"East A1", "East A1x"}


def test_me_returns_and_updates_my_profile(org, token_client):
    api = token_client(org.rep_a)
    assert api.get("/api/v1/users/me/").json()["username"] == "rep_a"
    response = api.patch(
        "/api/v1/users/me/", {"first_name": "Ada", "preferred_language": "en"}, format="json"
    )
    assert response.status_code == 200, response.content
    user = User.objects.get(pk=org.rep_a.pk)
    assert (user.first_name, user.preferred_language) == ("Ada", "en")


def test_me_refuses_role_team_and_level_with_field_messages(org, token_client):
    api = token_client(org.rep_a)
    before = User.objects.get(pk=org.rep_a.pk)
    response = api.patch(
        "/api/v1/users/me/",
        {
            "first_name": "Mallory",
            "role": "admin",
            "team": org.north.pk,
            "ladder_level": org.levels.senior.pk,
        },
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()
    assert {"role", "team", "ladder_level"} <= set(errors)
    assert all(isinstance(errors[name], list) and errors[name] for name in errors)
    after = User.objects.get(pk=org.rep_a.pk)
    assert (after.first_name, after.role, after.team_id, after.ladder_level_id) == (
        before.first_name,
        "rep",
        org.east_a.pk,
        org.levels.senior.pk,
    )


@pytest.mark.parametrize("field,value", [("is_superuser", True), ("is_staff", True)])
def test_me_refuses_privilege_fields(org, token_client, field, value):
    response = token_client(org.rep_a).patch("/api/v1/users/me/", {field: value}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    user = User.objects.get(pk=org.rep_a.pk)
    assert not user.is_superuser and not user.is_staff


def test_users_list_is_paginated(org, token_client):
    data = token_client(org.admin).get("/api/v1/users/?page_size=3").json()
    assert data["count"] == User.objects.count()
    assert len(data["results"]) == 3
    assert data["next"]


def test_the_openapi_schema(org, client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/users/" in schema["paths"]
    assert "/api/v1/teams/{id}/" in schema["paths"]
    assert "/api/v1/auth/token/" in schema["paths"]


def test_the_api_docs_load_only_local_assets(org, client):
    client.force_login(org.admin)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html.lower()
    assert "/static/drf_spectacular_sidecar/" in html
    external = [
        url
        for url in re.findall(r"""https?://[^\s"'<>)]+""", html)
        if not re.match(r"https?://(testserver|localhost|127\.0\.0\.1)(:\d+)?(/|$)", url)
    ]
    assert external == []
    assert not re.search(r"""(src|href)=["']//""", html)  # no protocol-relative URLs either


def test_admin_sets_a_teams_manager(org, token_client):
    api = token_client(org.admin)
    response = api.patch(
        f"/api/v1/teams/{org.east_b.pk}/", {"manager": org.rep_b.pk}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["manager"] == org.rep_b.pk
    assert Team.objects.get(pk=org.east_b.pk).manager == org.rep_b


def test_an_inactive_manager_is_a_field_error(org, token_client):
    api = token_client(org.admin)
    api.delete(f"/api/v1/users/{org.rep_b.pk}/")
    response = api.patch(
        f"/api/v1/teams/{org.east_b.pk}/", {"manager": org.rep_b.pk}, format="json"
    )
    assert response.status_code == 400
    assert "manager" in response.json()
    assert Team.objects.get(pk=org.east_b.pk).manager == org.sup_b


def test_admin_delete_deactivates_instead_of_deleting(org, token_client):
    response = token_client(org.admin).delete(f"/api/v1/users/{org.rep_b.pk}/")
    assert response.status_code == 204
    user = User.objects.get(pk=org.rep_b.pk)
    assert not user.is_active


def test_admin_reassigns_a_users_work(org, token_client, monkeypatch):
    from teams import services

    registry = list(services._ownership_reassigners)
    monkeypatch.setattr(services, "_ownership_reassigners", registry)
    services.register_ownership_reassigner(lambda f, t: {"fake_accounts": 4})
    api = token_client(org.admin)

    response = api.post(
        f"/api/v1/users/{org.rep_b.pk}/reassign/", {"to_user": org.sup_b.pk}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["counts"]["fake_accounts"] == 4

    response = api.post(
        f"/api/v1/users/{org.rep_b.pk}/reassign/", {"to_user": org.rep_b.pk}, format="json"
    )
    assert response.status_code == 400
    assert "to_user" in response.json()


def test_ordering_by_a_hidden_field_is_ignored(org, token_client):
    api = token_client(org.admin)
    default = [row["id"] for row in api.get("/api/v1/users/").json()["results"]]
    by_password = [
        row["id"] for row in api.get("/api/v1/users/?ordering=password").json()["results"]
    ]
    assert by_password == default
    by_name = [
        row["username"] for row in api.get("/api/v1/users/?ordering=-username").json()["results"]
    ]
    assert by_name == sorted(by_name, reverse=True)


def test_sync_clients_ask_for_what_changed(org, token_client):
    from django.utils import timezone

    api = token_client(org.admin)
    since = timezone.now()
    User.objects.filter(pk=org.rep_a.pk).update(updated_at=since + timezone.timedelta(seconds=1))
    changed = api.get("/api/v1/users/", {"updated_after": since.isoformat()})
    assert usernames(changed) == {"rep_a"}

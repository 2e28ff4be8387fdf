"""Sessions and tokens: deactivation, session rotation, password change, CSRF, throttling."""

import re

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from teams import services
from teams.models import User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Brand-New-Secret-9182"


def sign_in(client, username, password=PASSWORD):
    return client.post("/login/", {"username": username, "password": password})


def test_signing_in_and_out(org, client):
    response = sign_in(client, "rep_a")
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.post("/logout/").status_code == 302
    assert client.get("/")["Location"].startswith("/login/")


def test_a_wrong_password_does_not_sign_in(org, client):
    response = sign_in(client, "rep_a", "wrong")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302


def test_an_inactive_user_cannot_sign_in_or_get_a_token(org, client, api_client):
    services.user_deactivate(by=org.admin, user=org.rep_a)
    assert sign_in(client, "rep_a").status_code == 200
    assert client.get("/").status_code == 302
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "rep_a", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 400


def test_a_token_signs_in_its_holder_with_one_read(org, api_client):
    token = Token.objects.create(user=org.rep_a)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get("/api/v1/users/me/")
    assert response.status_code == 200
    assert response.data["username"] == "rep_a"
    assert response.data["role"] == org.rep_a.role and response.data["team"] == org.rep_a.team_id
    token_reads = [q["sql"] for q in queries if "authtoken_token" in q["sql"]]
    assert len(token_reads) == 1 and "teams_user" in token_reads[0]


def test_a_deactivated_users_next_request_is_refused(org, api_client):
    browser = Client()
    assert sign_in(browser, "rep_a").status_code == 302
    token = Token.objects.create(user=org.rep_a)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert browser.get("/").status_code == 200
    assert api_client.get("/api/v1/users/").status_code == 200

    services.user_deactivate(by=org.admin, user=org.rep_a)

    response = browser.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert browser.get("/api/v1/users/").status_code in (401, 403)
    assert api_client.get("/api/v1/users/").status_code == 401


def test_an_inactive_users_surviving_token_is_refused(org, api_client):
    token = Token.objects.create(user=org.rep_a)
    User.objects.filter(pk=org.rep_a.pk).update(is_active=False)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api_client.get("/api/v1/users/me/").status_code == 401


def test_signing_in_rotates_the_session_key(org, client):
    session = SessionStore()
    session["visited"] = True
    session.save()
    before = session.session_key
    client.cookies[settings.SESSION_COOKIE_NAME] = before

    assert sign_in(client, "rep_a").status_code == 302

    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after and after != before
    assert not SessionStore().exists(before)


def test_a_password_change_ends_the_other_sessions_and_revokes_tokens(org, api_client):
    here, elsewhere = Client(), Client()
    assert sign_in(here, "rep_a").status_code == 302
    assert sign_in(elsewhere, "rep_a").status_code == 302
    token = Token.objects.create(user=org.rep_a)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert elsewhere.get("/").status_code == 200

    response = here.post(
        "/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == "/profile/"

    assert here.get("/").status_code == 200  # the session that changed it stays signed in
    response = elsewhere.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert not Token.objects.filter(user=org.rep_a).exists()
    assert api_client.get("/api/v1/users/me/").status_code == 401
    assert User.objects.get(pk=org.rep_a.pk).check_password(NEW_PASSWORD)


def test_a_wrong_old_password_changes_nothing(org, client):
    client.force_login(org.rep_a)
    response = client.post(
        "/password/",
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
    assert User.objects.get(pk=org.rep_a.pk).check_password(PASSWORD)


def csrf_client():
    client = Client(enforce_csrf_checks=True)
    client.get("/login/")
    return client, client.cookies["csrftoken"].value


def test_sign_in_needs_a_csrf_token(org):
    client, token = csrf_client()
    response = client.post("/login/", {"username": "rep_a", "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
    response = client.post(
        "/login/", {"username": "rep_a", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    "path,data",
    [
        ("/profile/", {"first_name": "Forged"}),
        ("/password/", {"old_password": PASSWORD, "new_password1": "x", "new_password2": "x"}),
        ("/language/", {"language": "en"}),
        ("/notifications/read-all/", {}),
        ("/logout/", {}),
    ],
)
def test_every_form_needs_a_csrf_token(org, path, data):
    client, token = csrf_client()
    client.post(
        "/login/", {"username": "rep_a", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    token = client.cookies["csrftoken"].value  # rotated on sign-in
    assert client.post(path, data).status_code == 403
    rep = User.objects.get(pk=org.rep_a.pk)
    assert rep.first_name != "Forged" and rep.preferred_language == ""
    assert client.get("/").status_code == 200  # still signed in: the forged logout was refused
    assert client.post(path, {**data, "csrfmiddlewaretoken": token}).status_code in (200, 302)


def test_the_api_with_a_session_needs_a_csrf_token(org):
    client, token = csrf_client()
    client.post(
        "/login/", {"username": "rep_a", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    response = client.patch(
        "/api/v1/users/me/", {"first_name": "Forged"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert User.objects.get(pk=org.rep_a.pk).first_name != "Forged"
    response = client.patch(
        "/api/v1/users/me/",
        {"first_name": "Real"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )
    assert response.status_code == 200
    assert User.objects.get(pk=org.rep_a.pk).first_name == "Real"


def test_the_token_endpoint_is_throttled(org, api_client):
    statuses = [
        api_client.post(
            "/api/v1/auth/token/", {"username": "rep_a", "password": "guess"}, format="json"
        ).status_code
        for _ in range(25)
    ]
    assert statuses[0] == 400
    assert 429 in statuses
    assert (
        api_client.post(
            "/api/v1/auth/token/", {"username": "rep_a", "password": PASSWORD}, format="json"
        ).status_code
        == 429
    )


def test_login_redirects_only_to_this_site(org, client):
    response = client.post(
        "/login/", {"username": "rep_a", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    response = Client().post("/language/", {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_htmx_requests_carry_the_csrf_token_from_the_page(org):
    from tests.factories import NotificationFactory

    notification = NotificationFactory(recipient=org.rep_a)
    client, token = csrf_client()
    client.post(
        "/login/", {"username": "rep_a", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    page = client.get("/notifications/").content.decode()
    header_token = re.search(r"hx-headers='\{\"X-CSRFToken\": \"([^\"]+)\"\}'", page).group(1)
    url = f"/notifications/{notification.pk}/read/"
    assert client.post(url, HTTP_HX_REQUEST="true").status_code == 403
    response = client.post(url, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=header_token)
    assert response.status_code == 200
    notification.refresh_from_db()
    assert notification.read_at is not None

"""An anonymous visitor is sent to sign in on every page and gets 401 from every endpoint."""

import pytest

from tests.security.urls import api_paths, page_paths

pytestmark = pytest.mark.django_db

PAGES = page_paths()
API = api_paths()


def test_the_discovered_urls_include_the_foundation_pages_and_endpoints():
    assert {
        "/",
        "/org/",
        "/people/",
        "/people/1/",
        "/notifications/",
        "/profile/",
        "/password/",
        "/notifications/1/read/",
        "/notifications/read-all/",
    } <= set(PAGES)
    assert {
        "/api/v1/",
        "/api/v1/users/",
        "/api/v1/users/1/",
        "/api/v1/users/me/",
        "/api/v1/teams/",
        "/api/v1/teams/1/",
        "/api/v1/notifications/",
    } <= set(API)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_an_anonymous_visitor_to_sign_in(client, path):
    response = client.get(path)
    if response.status_code == 405:  # a POST-only action
        response = client.post(path)
    assert response.status_code == 302, f"{path} answered {response.status_code}"
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("path", API)
@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
def test_every_api_endpoint_answers_401_to_anonymous(api_client, path, method):
    response = getattr(api_client, method)(path, {}, format="json")
    assert response.status_code == 401, f"{method.upper()} {path} answered {response.status_code}"
    assert response["WWW-Authenticate"].startswith("Token")


def test_a_bad_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert api_client.get("/api/v1/users/").status_code == 401


def test_the_login_page_is_public(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert 'name="csrfmiddlewaretoken"' in response.content.decode()

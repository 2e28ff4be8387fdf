"""Mass assignment: what a person cannot set on themselves is refused with a clear error,
through the page and through the API, and nothing is stored."""

import pytest
from django.utils.html import escape

from teams.models import User

pytestmark = pytest.mark.django_db


def snapshot(user):
    user = User.objects.get(pk=user.pk)
    return (
        user.first_name,
        user.role,
        user.team_id,
        user.ladder_level_id,
        user.is_staff,
        user.is_superuser,
        user.is_active,
        user.username,
    )


@pytest.mark.parametrize(
    "forged",
    [
        {"role": "admin"},
        {"team": "north"},
        {"ladder_level": "senior"},
        {"role": "manager", "team": "north", "ladder_level": "senior"},
        {"is_superuser": "on"},
        {"is_staff": "on"},
        {"username": "boss"},
    ],
)
def test_a_rep_cannot_set_protected_fields_on_the_profile_page(org, client, forged):
    lookups = {"team": org.north.pk, "ladder_level": org.levels.junior.pk}
    data = {
        "first_name": "Mallory",
        "last_name": "Rep",
        "email": "rep_a@example.com",
        "phone": "",
        "preferred_language": "",
    }
    for name, value in forged.items():
        data[name] = lookups.get(name, value)
    before = snapshot(org.rep_a)
    client.force_login(org.rep_a)

    response = client.post("/profile/", data)

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors
    message = " ".join(form.non_field_errors())
    for name in forged:
        assert name in message
    assert escape(form.non_field_errors()[0]) in response.content.decode()  # shown on the page
    assert snapshot(org.rep_a) == before
    # The page still shows the stored values, not the forged ones.
    assert response.context["user"].first_name == before[0]


def test_the_profile_page_saves_what_a_person_may_change(org, client):
    client.force_login(org.rep_a)
    response = client.post(
        "/profile/",
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.com",
            "phone": "+86 21 5555 0000",
            "preferred_language": "en",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(pk=org.rep_a.pk)
    assert (user.first_name, user.phone, user.preferred_language) == (
        "Ada",
        "+86 21 5555 0000",
        "en",
    )
    assert user.role == "rep"


def test_invalid_profile_input_is_a_form_error(org, client):
    client.force_login(org.rep_a)
    response = client.post(
        "/profile/", {"first_name": "A", "email": "not-an-email", "preferred_language": "xx"}
    )
    assert response.status_code == 200
    assert {"email", "preferred_language"} <= set(response.context["form"].errors)
    assert User.objects.get(pk=org.rep_a.pk).first_name != "A"


@pytest.mark.parametrize(
    "forged", [{"role": "admin"}, {"team": "north"}, {"ladder_level": "junior"}]
)
def test_a_rep_cannot_set_protected_fields_through_the_api(org, token_client, forged):
    lookups = {"team": org.north.pk, "ladder_level": org.levels.junior.pk}
    data = {"first_name": "Mallory"}
    for name, value in forged.items():
        data[name] = lookups.get(name, value)
    before = snapshot(org.rep_a)
    api = token_client(org.rep_a)

    response = api.patch("/api/v1/users/me/", data, format="json")
    assert response.status_code == 400
    assert set(forged) <= set(response.json())
    # The same through the users endpoint is not the rep's to write at all.
    assert api.patch(f"/api/v1/users/{org.rep_a.pk}/", data, format="json").status_code == 403
    assert api.put(f"/api/v1/users/{org.rep_a.pk}/", data, format="json").status_code == 403
    assert snapshot(org.rep_a) == before


def test_a_manager_cannot_promote_their_reps_through_the_api(org, token_client):
    before = snapshot(org.rep_a)
    response = token_client(org.east_mgr).patch(
        f"/api/v1/users/{org.rep_a.pk}/", {"role": "manager"}, format="json"
    )
    assert response.status_code == 403
    assert snapshot(org.rep_a) == before

"""The teams services: users, managers, ownership transfers and deactivation."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.authtoken.models import Token

from teams import services
from teams.models import OwnershipTransfer, Role, Team, User
from tests.factories import PASSWORD, RepFactory

pytestmark = pytest.mark.django_db


# user_create


def test_user_create_stores_a_hashed_password_and_the_organisation_fields(org):
    user = services.user_create(
        by=org.admin,
        username="newbie",
        password=PASSWORD,
        team=org.east_a,
        role=Role.REP,
        ladder_level=org.levels.junior,
        email="newbie@example.com",
    )
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert user.password != PASSWORD
    assert (user.team, user.role, user.ladder_level) == (org.east_a, "rep", org.levels.junior)
    assert not user.is_staff
    assert "newbie" in set(User.objects.visible_to(org.sup_a).values_list("username", flat=True))


def test_user_create_without_a_password_makes_it_unusable(org):
    user = services.user_create(by=org.admin, username="nopass")
    assert not user.has_usable_password()


def test_an_admin_role_gets_staff_access(org):
    user = services.user_create(by=org.admin, username="ops", role=Role.ADMIN)
    assert user.is_staff and user.is_admin


def test_user_create_validates(org):
    with pytest.raises(ValidationError) as error:
        services.user_create(by=org.admin, username="rep_a")
    assert "username" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.user_create(by=org.admin, username="odd", role="emperor")
    assert "role" in error.value.message_dict
    assert not User.objects.filter(username="odd").exists()


@pytest.mark.parametrize("who", ["east_mgr", "rep_a", "head"])
def test_only_an_admin_creates_users(org, who):
    with pytest.raises(PermissionDenied):
        services.user_create(by=getattr(org, who), username="sneaky", team=org.east_a)
    assert not User.objects.filter(username="sneaky").exists()


# user_move_to_team


def test_user_move_to_team(org):
    services.user_move_to_team(by=org.admin, user=org.rep_a, team=org.north)
    assert User.objects.get(pk=org.rep_a.pk).team == org.north


def test_only_an_admin_moves_people(org):
    with pytest.raises(PermissionDenied):
        services.user_move_to_team(by=org.east_mgr, user=org.rep_a, team=org.east_b)
    assert User.objects.get(pk=org.rep_a.pk).team == org.east_a


# team_set_manager and the assignable rule


def test_team_set_manager_changes_who_sees_the_team(org):
    services.team_set_manager(by=org.admin, team=org.east_b, manager=org.north_mgr)
    assert Team.objects.get(pk=org.east_b.pk).manager == org.north_mgr
    seen = set(User.objects.visible_to(org.north_mgr).values_list("username", flat=True))
    assert {"rep_b", "sup_b"} <= seen
    assert "rep_b" not in set(User.objects.visible_to(org.sup_b).values_list("username", flat=True))


def test_team_set_manager_can_clear_the_manager(org):
    services.team_set_manager(by=org.admin, team=org.east_b, manager=None)
    assert Team.objects.get(pk=org.east_b.pk).manager is None
    assert set(User.objects.visible_to(org.sup_b).values_list("username", flat=True)) == {"sup_b"}


@pytest.mark.parametrize("who", ["east_mgr", "sup_b", "rep_b"])
def test_a_non_admin_cannot_change_a_manager(org, who):
    with pytest.raises(PermissionDenied):
        services.team_set_manager(by=getattr(org, who), team=org.east_b, manager=org.rep_b)
    assert Team.objects.get(pk=org.east_b.pk).manager == org.sup_b


def test_an_inactive_user_cannot_become_a_manager(org):
    services.user_deactivate(by=org.admin, user=org.rep_b)
    org.rep_b.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        services.team_set_manager(by=org.admin, team=org.east_b, manager=org.rep_b)
    assert "manager" in error.value.message_dict
    assert Team.objects.get(pk=org.east_b.pk).manager == org.sup_b


def test_owner_and_manager_fields_only_take_users_the_writer_sees(org):
    services.validate_assignable(by=org.east_mgr, user=org.rep_a1x, field="owner")
    with pytest.raises(ValidationError) as error:
        services.validate_assignable(by=org.east_mgr, user=org.rep_north, field="owner")
    assert "owner" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.validate_assignable(by=org.rep_a, user=org.rep_a1, field="owner")
    services.validate_assignable(by=org.rep_a, user=org.rep_a, field="owner")


def test_team_create_places_the_team_in_the_tree(org):
    team = services.team_create(by=org.admin, name="East A2", parent=org.east_a)
    assert (team.path, team.depth) == (f"{org.east_a.path}{team.pk}/", 3)
    with pytest.raises(PermissionDenied):
        services.team_create(by=org.east_mgr, name="Rogue", parent=org.east)
    assert not Team.objects.filter(name="Rogue").exists()


def test_team_update_is_for_admins(org):
    with pytest.raises(PermissionDenied):
        services.team_update(by=org.east_mgr, team=org.east_a, parent=org.east_b)
    assert Team.objects.get(pk=org.east_a.pk).parent == org.east


# user_reassign_ownership


@pytest.fixture
def reassigners(monkeypatch):
    """A private copy of the registry, so fakes registered by a test go away after it."""
    registry = list(services._ownership_reassigners)
    monkeypatch.setattr(services, "_ownership_reassigners", registry)
    return registry


def test_reassign_ownership_runs_every_registered_hook_and_records_counts(org, reassigners):
    calls = []

    def accounts(from_user, to_user):
        calls.append((from_user.username, to_user.username))
        return {"fake_accounts": 3, "fake_follow_ups": 2}

    def deals(from_user, to_user):
        return {"fake_deals": 5, "fake_follow_ups": 1}

    services.register_ownership_reassigner(accounts)
    services.register_ownership_reassigner(deals)
    services.register_ownership_reassigner(accounts)  # registering twice runs it once

    transfer = services.user_reassign_ownership(
        by=org.sup_a, from_user=org.rep_a, to_user=org.rep_a1
    )

    assert calls == [("rep_a", "rep_a1")]
    transfer = OwnershipTransfer.objects.get(pk=transfer.pk)
    assert (transfer.from_user, transfer.to_user, transfer.performed_by) == (
        org.rep_a,
        org.rep_a1,
        org.sup_a,
    )
    assert transfer.counts["fake_accounts"] == 3
    assert transfer.counts["fake_deals"] == 5
    assert transfer.counts["fake_follow_ups"] == 3


def test_the_fake_hooks_are_gone_after_the_test(db):
    assert all(
        "test_" not in getattr(func, "__qualname__", "") for func in services._ownership_reassigners
    )


def test_a_failing_hook_rolls_the_whole_transfer_back(org, reassigners):
    services.register_ownership_reassigner(lambda f, t: {"fake": 1})

    def broken(from_user, to_user):
        Team.objects.filter(pk=org.east_a.pk).update(name="half-done")
        raise RuntimeError("boom")

    services.register_ownership_reassigner(broken)
    with pytest.raises(RuntimeError):
        services.user_reassign_ownership(by=org.admin, from_user=org.rep_a, to_user=org.rep_b)
    assert not OwnershipTransfer.objects.exists()
    assert Team.objects.get(pk=org.east_a.pk).name == "East A"


def test_reassign_to_the_same_person_is_refused(org, reassigners):
    with pytest.raises(ValidationError) as error:
        services.user_reassign_ownership(by=org.admin, from_user=org.rep_a, to_user=org.rep_a)
    assert "to_user" in error.value.message_dict


def test_reassign_only_between_people_the_writer_sees(org, reassigners):
    with pytest.raises(ValidationError) as error:
        services.user_reassign_ownership(by=org.sup_a, from_user=org.rep_a, to_user=org.rep_b)
    assert "to_user" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.user_reassign_ownership(by=org.sup_a, from_user=org.rep_b, to_user=org.rep_a)
    assert "from_user" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.user_reassign_ownership(by=org.rep_a, from_user=org.rep_a, to_user=org.rep_a1)
    assert not OwnershipTransfer.objects.exists()


# user_deactivate


def test_deactivate_switches_the_user_off_and_deletes_their_tokens(org):
    Token.objects.create(user=org.sup_b)
    services.user_deactivate(by=org.admin, user=org.sup_b)
    org.sup_b.refresh_from_db()
    assert not org.sup_b.is_active
    assert not Token.objects.filter(user=org.sup_b).exists()
    # A leaver no longer manages a team, and sees nothing.
    assert Team.objects.get(pk=org.east_b.pk).manager is None
    assert not User.objects.visible_to(org.sup_b).exists()


def test_deactivate_can_hand_the_work_over(org, reassigners):
    services.register_ownership_reassigner(lambda f, t: {"fake_accounts": 7})
    services.user_deactivate(by=org.admin, user=org.rep_b, reassign_to=org.sup_b)
    transfer = OwnershipTransfer.objects.get()
    assert (transfer.from_user, transfer.to_user) == (org.rep_b, org.sup_b)
    assert transfer.counts["fake_accounts"] == 7


def test_deactivate_is_for_admins_and_not_for_oneself(org):
    with pytest.raises(PermissionDenied):
        services.user_deactivate(by=org.east_mgr, user=org.rep_b)
    with pytest.raises(ValidationError):
        services.user_deactivate(by=org.admin, user=org.admin)
    assert User.objects.filter(is_active=True, username__in=["rep_b", "admin"]).count() == 2


def test_deactivated_users_next_request_is_refused_by_session_and_token(org, client, api_client):
    rep = RepFactory(team=org.east_a)
    token = Token.objects.create(user=rep)
    client.force_login(rep)
    assert client.get("/").status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api_client.get("/api/v1/users/me/").status_code == 200

    services.user_deactivate(by=org.admin, user=rep)

    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert api_client.get("/api/v1/users/me/").status_code == 401


# profile_update and user_update


def test_profile_update_refuses_organisation_fields(org):
    with pytest.raises(ValidationError) as error:
        services.profile_update(user=org.rep_a, role=Role.ADMIN, first_name="X")
    assert "role" in error.value.message_dict
    org.rep_a.refresh_from_db()
    assert (org.rep_a.role, org.rep_a.first_name) == ("rep", org.rep_a.first_name)
    assert User.objects.get(pk=org.rep_a.pk).role == "rep"


def test_user_update_is_for_admins(org):
    with pytest.raises(PermissionDenied):
        services.user_update(by=org.east_mgr, user=org.rep_a, role=Role.MANAGER)
    services.user_update(by=org.admin, user=org.rep_a, role=Role.SUPERVISOR)
    assert User.objects.get(pk=org.rep_a.pk).role == "supervisor"


def test_user_set_password_revokes_tokens(org):
    Token.objects.create(user=org.rep_a)
    services.user_set_password(user=org.rep_a, password="Another-Long-Secret-9")
    assert not Token.objects.filter(user=org.rep_a).exists()
    assert User.objects.get(pk=org.rep_a.pk).check_password("Another-Long-Secret-9")

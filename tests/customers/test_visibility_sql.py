"""Hand-written statements (the account timeline) apply the visibility rule through
account_visibility_sql and visible_owner_sql: they must select exactly the rows that the
querysets' visible_to selects, for every kind of viewer."""

import pytest
from django.db import connection

from customers.models import Account
from customers.querysets import account_visibility_sql
from teams.models import User
from teams.querysets import visible_owner_sql
from tests.customers.factories import AccountFactory

pytestmark = pytest.mark.django_db


def _ids(sql: str, params: list) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def _viewers(org) -> list[User]:
    inactive = User.objects.get(pk=org.rep_b.pk)
    inactive.is_active = False
    return [*User.objects.exclude(pk=org.rep_b.pk), inactive]


def test_the_account_condition_selects_what_visible_to_selects(org):
    for owner in User.objects.exclude(team=None):
        AccountFactory(owner=owner)
    for team in (org.east, org.east_a1x, org.north):
        AccountFactory(owner=None, pool_team=team)
    AccountFactory(owner=None, pool_team=None)
    for viewer in _viewers(org):
        condition, params = account_visibility_sql(viewer, "a")
        seen = _ids(
            f"SELECT a.id FROM {Account._meta.db_table} a WHERE a.deleted_at IS NULL AND "
            + condition,
            params,
        )
        assert seen == set(Account.objects.visible_to(viewer).values_list("pk", flat=True)), (
            viewer.username
        )


def test_the_owner_condition_selects_what_visible_to_selects(org):
    for viewer in _viewers(org):
        condition, params = visible_owner_sql(viewer, "u.id")
        seen = _ids(f"SELECT u.id FROM {User._meta.db_table} u WHERE {condition}", params)
        assert seen == set(User.objects.visible_to(viewer).values_list("pk", flat=True)), (
            viewer.username
        )

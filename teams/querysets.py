"""Querysets that carry the visibility rule (DESIGN.md §4).

Every model with an owner uses `VisibleQuerySet` (or a subclass) so that reads start from
`Model.objects.visible_to(user)`; the rule itself lives in `teams.selectors`.
"""

from django.db import models


def can_read(user) -> bool:
    """Whether `user` may read anything at all: signed in and active."""
    return bool(user and user.is_authenticated and user.is_active)


class VisibleQuerySet(models.QuerySet):
    """Rows whose owner is in the set of users the viewer may see."""

    owner_field = "owner"

    def visible_to(self, user):
        from teams.selectors import visible_user_ids

        if not can_read(user):
            return self.none()
        ids = visible_user_ids(user)
        if ids is None:
            return self
        return self.filter(**{f"{self.owner_field}__in": ids})


def visible_owner_sql(user, column: str) -> tuple[str, list]:
    """VisibleQuerySet.visible_to as a condition on `column`, the owner's id of the rows of a
    hand-written statement, with its parameters."""
    from teams.selectors import visible_user_ids

    if not can_read(user):
        return "1 = 0", []
    ids = visible_user_ids(user)
    if ids is None:
        return "1 = 1", []
    return f"{column} IN ({ids.sql})", list(ids.params)


class UserQuerySet(VisibleQuerySet):
    owner_field = "pk"


class TeamQuerySet(models.QuerySet):
    def visible_to(self, user):
        from teams.selectors import visible_team_ids

        if not can_read(user):
            return self.none()
        ids = visible_team_ids(user)
        if ids is None:
            return self
        return self.filter(pk__in=ids)

    def subtree_of(self, team):
        return self.filter(path__startswith=team.path)

"""Querysets of the customers app, built on the visibility rule of teams.selectors.

An account is visible when its owner is visible (the teams rule) or when it has no owner and
lies in the public pool of a team the viewer belongs to or manages from above. Contacts and
interactions are visible through their account; follow-ups through their account or their
assignee.
"""

from django.db import models
from django.db.models import Q

from customers import text
from teams.querysets import VisibleQuerySet, can_read


def account_visibility_q(user, prefix: str = "") -> Q | None:
    """The condition on accounts (reached through `prefix`) that `user` may see; None means
    every account (admins)."""
    from teams.selectors import visible_team_ids, visible_user_ids

    user_ids = visible_user_ids(user)
    if user_ids is None:
        return None
    team_ids = visible_team_ids(user)
    return Q(**{f"{prefix}owner__in": user_ids}) | Q(
        **{f"{prefix}owner__isnull": True, f"{prefix}pool_team__in": team_ids}
    )


def account_visibility_sql(user, alias: str) -> tuple[str, list]:
    """AccountQuerySet.visible_to as a condition on the accounts reached as `alias` in a
    hand-written statement, with its parameters (soft deletion is the statement's own)."""
    from teams.selectors import visible_team_ids, visible_user_ids

    if not can_read(user):
        return "1 = 0", []
    users = visible_user_ids(user)
    if users is None:
        return "1 = 1", []
    teams = visible_team_ids(user)
    return (
        f"({alias}.owner_id IN ({users.sql}) OR ({alias}.owner_id IS NULL"
        f" AND {alias}.pool_team_id IN ({teams.sql})))",
        [*users.params, *teams.params],
    )


def _text_search_q(query: str) -> Q | None:
    """Substring match of the query's terms on the row's `search_text` (name, pinyin,
    initials, email and phone digits in one trigram-indexed column)."""
    terms = text.search_terms(query)
    if not terms:
        return None
    condition = Q(pk__in=[])
    for term in sorted(terms):
        condition |= Q(search_text__contains=term)
    return condition


class AccountQuerySet(VisibleQuerySet):
    def visible_to(self, user):
        if not can_read(user):
            return self.none()
        q = account_visibility_q(user)
        return self if q is None else self.filter(q)

    def search(self, query: str):
        """Name (Chinese or English), pinyin, pinyin initials, phone or email, of the account
        or of one of its contacts."""
        from customers.models import Contact

        condition = _text_search_q(query)
        if condition is None:
            return self
        contacts = Contact.objects.filter(condition)
        return self.filter(condition | Q(pk__in=contacts.values("account_id")))

    def in_pool(self):
        return self.filter(owner__isnull=True, pool_team__isnull=False)

    def alive(self):
        return self.filter(deleted_at__isnull=True)


class AccountManager(models.Manager.from_queryset(AccountQuerySet)):
    """The default manager: soft-deleted accounts do not exist for the application."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class AccountChildQuerySet(models.QuerySet):
    """Rows that belong to an account (contacts, interactions) and are visible through it."""

    def visible_to(self, user, *, with_deleted_accounts: bool = False):
        """`with_deleted_accounts` keeps rows of soft-deleted accounts, for the tombstones
        that sync clients pull."""
        if not can_read(user):
            return self.none()
        qs = self if with_deleted_accounts else self.filter(account__deleted_at__isnull=True)
        q = account_visibility_q(user, prefix="account__")
        return qs if q is None else qs.filter(q)


class AccountChildManager(models.Manager.from_queryset(AccountChildQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class ContactQuerySet(AccountChildQuerySet):
    def search(self, query: str):
        condition = _text_search_q(query)
        return self if condition is None else self.filter(condition)


class ContactManager(models.Manager.from_queryset(ContactQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class FollowUpQuerySet(models.QuerySet):
    def visible_to(self, user):
        from teams.selectors import visible_user_ids

        if not can_read(user):
            return self.none()
        qs = self.filter(account__deleted_at__isnull=True)
        q = account_visibility_q(user, prefix="account__")
        if q is None:
            return qs
        return qs.filter(q | Q(assignee__in=visible_user_ids(user)))

    def open(self):
        return self.filter(status="open")

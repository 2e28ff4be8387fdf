"""Reads of the teams app, and the visibility rule of DESIGN.md §4.

The rule lives here and nowhere else: a user sees what they own, plus what is owned by the
members of every team they manage and of every team below those; an admin sees everything.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.shortcuts import get_object_or_404
from rest_framework.authtoken.models import Token

from teams.filtersets import UserFilterSet
from teams.models import Notification, Team, User

# The teams each viewer manages, remembered for one request: a page or endpoint applies the
# rule several times (the list, its filters' choices, the pool), and the answer only changes
# when a team is saved, which clears it.
_managed_paths_memo: ContextVar[dict | None] = ContextVar("managed_paths_memo", default=None)


@contextmanager
def remembered_visibility():
    token = _managed_paths_memo.set({})
    try:
        yield
    finally:
        _managed_paths_memo.reset(token)


def forget_visibility() -> None:
    memo = _managed_paths_memo.get()
    if memo is not None:
        memo.clear()


def _read_managed_team_paths(user: User) -> list[str]:
    # Hand-written: a manager's every request reads it, and the queryset cost more to build
    # than the read.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT path FROM {Team._meta.db_table} WHERE manager_id = %s ORDER BY path",
            [user.pk],
        )
        return [path for (path,) in cursor.fetchall()]


def managed_team_paths(user: User) -> list[str]:
    memo = _managed_paths_memo.get()
    if memo is None:
        return _read_managed_team_paths(user)
    if user.pk not in memo:
        memo[user.pk] = _read_managed_team_paths(user)
    return list(memo[user.pk])


def _subtree_sql(paths: list[str]) -> tuple[str, list]:
    """The condition on `t` (a team) of lying in the subtree of one of `paths`."""
    like = connection.operators["startswith"]
    return (
        " OR ".join(f"t.path {like}" for _ in paths),
        [connection.ops.prep_for_like_query(path) + "%" for path in paths],
    )


def visible_user_ids(user: User) -> RawSQL | None:
    """The ids of the users whose records `user` may see, as a subquery for `field__in`
    filters (or, through its `sql` and `params`, for hand-written statements); None means all.

    Written as SQL because every read applies it: building and compiling it as a queryset
    each time cost more than running it. The managed teams' paths are read beforehand and
    written in as constants: then PostgreSQL knows that a rep's set is one user and reads
    their rows by index, where a join to the teams inside the statement made it guess half
    of all users and scan every open deal for a rep's board."""
    if user.is_admin:
        return None
    paths = managed_team_paths(user)
    sql, params = f"SELECT u.id FROM {User._meta.db_table} u WHERE u.id = %s", [user.pk]
    if paths:
        subtree, subtree_params = _subtree_sql(paths)
        sql += f" OR u.team_id IN (SELECT t.id FROM {Team._meta.db_table} t WHERE {subtree})"
        params += subtree_params
    return RawSQL(sql, params)


def visible_team_ids(user: User) -> RawSQL | None:
    """The teams `user` may see: their own team and every team in the subtrees they manage,
    as visible_user_ids gives users; None means all."""
    if user.is_admin:
        return None
    paths = managed_team_paths(user)
    conditions, params = [], []
    if user.team_id:
        conditions, params = ["t.id = %s"], [user.team_id]
    if paths:
        subtree, subtree_params = _subtree_sql(paths)
        conditions.append(subtree)
        params += subtree_params
    where = " OR ".join(conditions) or "1 = 0"
    return RawSQL(f"SELECT t.id FROM {Team._meta.db_table} t WHERE {where}", params)


def token_holder(key: str) -> Token | None:
    """The API token of `key` with its user loaded, or None. Every API request starts with
    this read, so it is one hand-written statement: the ORM's select_related lookup cost
    twice as much to build as to run."""
    users = User.objects.raw(
        f"SELECT u.*, t.created AS token_created FROM {User._meta.db_table} u "
        f"JOIN {Token._meta.db_table} t ON t.user_id = u.id WHERE t.key = %s",
        [key],
    )
    user = next(iter(users), None)
    if user is None:
        return None
    return Token(key=key, user=user, created=user.__dict__.pop("token_created"))


def user_can_see(viewer: User, user: User) -> bool:
    return User.objects.visible_to(viewer).filter(pk=user.pk).exists()


def is_manager(user: User) -> bool:
    """Whether the user manages at least one team (and so sees more than their own records)."""
    return user.is_admin or bool(managed_team_paths(user))


def user_list(*, viewer: User, filters: dict | None = None) -> QuerySet:
    qs = User.objects.visible_to(viewer).select_related("team", "ladder_level")
    return UserFilterSet(filters, queryset=qs, request=None).qs


def user_get(*, viewer: User, pk) -> User:
    return get_object_or_404(
        User.objects.visible_to(viewer).select_related("team", "team__manager", "ladder_level"),
        pk=pk,
    )


def team_list(*, viewer: User) -> QuerySet:
    return (
        Team.objects.visible_to(viewer)
        .select_related("manager", "parent")
        .annotate(member_count=Count("members", filter=Q(members__is_active=True)))
    )


def team_get(*, viewer: User, pk) -> Team:
    return get_object_or_404(team_list(viewer=viewer), pk=pk)


def team_tree(*, viewer: User) -> list[dict]:
    """The visible teams as nested nodes {"team", "children"}, in one query."""
    teams = list(team_list(viewer=viewer).order_by("path"))
    nodes = {team.pk: {"team": team, "children": []} for team in teams}
    roots = []
    for team in teams:
        parent = nodes.get(team.parent_id)
        (parent["children"] if parent else roots).append(nodes[team.pk])
    return roots


def manager_of(user: User) -> User | None:
    """The person the user reports to: the nearest manager above them in the tree."""
    if not user.team_id:
        return None
    ancestors = (
        Team.objects.filter(pk__in=user.team.line_ids, manager__isnull=False)
        .exclude(manager_id=user.pk)
        .select_related("manager")
        .order_by("-depth")
    )
    first = ancestors.first()
    return first.manager if first else None


def direct_reports(user: User) -> QuerySet:
    """Members of the teams the user manages, and the managers of the teams just below them."""
    managed = Team.objects.filter(manager_id=user.pk)
    return (
        User.objects.filter(Q(team__in=managed) | Q(managed_teams__parent__in=managed))
        .exclude(pk=user.pk)
        .filter(is_active=True)
        .select_related("team", "ladder_level")
        .distinct()
        .order_by("team__path", "username")
    )


def unread_notification_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_list(*, user: User, unread_only: bool = False) -> QuerySet:
    qs = Notification.objects.filter(recipient_id=user.pk)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs

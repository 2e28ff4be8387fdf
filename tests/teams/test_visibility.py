"""The visibility rule of DESIGN.md §4: who sees which users and teams."""

import pytest
from django.core.exceptions import ValidationError

from teams import selectors, services
from teams.models import Team, User
from tests.factories import ManagerFactory, RepFactory, TeamFactory
from tests.utils import count_queries

pytestmark = pytest.mark.django_db


def seen_users(viewer):
    return set(User.objects.visible_to(viewer).values_list("username", flat=True))


def seen_teams(viewer):
    return set(Team.objects.visible_to(viewer).values_list("name", flat=True))


def test_the_tree_has_five_levels_with_materialized_paths(org):
    assert [org.head_office.depth, org.east.depth, org.east_a.depth] == [0, 1, 2]
    assert [org.east_a1.depth, org.east_a1x.depth] == [3, 4]
    assert org.east_a1x.path == (
        f"/{org.head_office.pk}/{org.east.pk}/{org.east_a.pk}/{org.east_a1.pk}/{org.east_a1x.pk}/"
    )


def test_a_rep_sees_only_themselves(org):
    assert seen_users(org.rep_a) == {"rep_a"}
    assert seen_users(org.rep_a1x) == {"rep_a1x"}
    assert seen_teams(org.rep_a) == {"East A"}


def test_a_manager_sees_their_team_and_every_team_below(org):
    assert seen_users(org.sup_a) == {"sup_a", "rep_a", "lead_a1", "rep_a1", "lead_a1x", "rep_a1x"}
    assert seen_teams(org.sup_a) == {"East A", "East A1", "East A1x"}


def test_the_deepest_manager_sees_only_the_leaf_team(org):
    assert seen_users(org.lead_a1x) == {"lead_a1x", "rep_a1x"}
    assert seen_teams(org.lead_a1x) == {"East A1x"}


def test_a_regional_manager_sees_four_levels_below_them(org):
    assert seen_users(org.east_mgr) == {
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
    }


def test_sibling_and_parent_teams_stay_invisible(org):
    seen = seen_users(org.sup_a)
    assert not seen & {"sup_b", "rep_b", "east_mgr", "rep_east", "head", "north_mgr", "rep_north"}
    assert not seen_teams(org.sup_a) & {"East B", "East", "Head office", "North"}
    assert "rep_a" not in seen_users(org.north_mgr)
    assert "East A" not in seen_teams(org.north_mgr)


def test_the_head_of_sales_sees_the_whole_tree_but_not_people_outside_it(org):
    seen = seen_users(org.head)
    assert {"rep_north", "rep_a1x", "sup_b", "east_mgr"} <= seen
    assert "admin" not in seen  # the admin belongs to no team
    assert len(seen_teams(org.head)) == 7


@pytest.mark.parametrize("who", ["admin", "root"])
def test_an_admin_or_superuser_sees_everyone(org, who):
    viewer = getattr(org, who)
    assert selectors.visible_user_ids(viewer) is None
    assert seen_users(viewer) == set(User.objects.values_list("username", flat=True))
    assert seen_teams(viewer) == set(Team.objects.values_list("name", flat=True))


def test_an_inactive_or_anonymous_viewer_sees_nothing(org):
    from django.contrib.auth.models import AnonymousUser

    assert not User.objects.visible_to(AnonymousUser()).exists()
    assert not Team.objects.visible_to(AnonymousUser()).exists()
    services.user_deactivate(by=org.admin, user=org.east_mgr)
    org.east_mgr.refresh_from_db()
    assert not User.objects.visible_to(org.east_mgr).exists()


def test_user_can_see_follows_the_rule(org):
    assert selectors.user_can_see(org.east_mgr, org.rep_a1x)
    assert not selectors.user_can_see(org.sup_b, org.rep_a)
    assert not selectors.user_can_see(org.rep_a, org.sup_a)


def test_moving_a_user_changes_what_they_and_their_managers_see_at_once(org):
    assert "rep_b" not in seen_users(org.sup_a)
    assert "rep_b" in seen_users(org.sup_b)

    services.user_move_to_team(by=org.admin, user=org.rep_b, team=org.east_a1)

    assert "rep_b" in seen_users(org.sup_a)
    assert "rep_b" in seen_users(org.lead_a1)
    assert "rep_b" not in seen_users(org.sup_b)
    assert "rep_b" not in seen_users(org.lead_a1x)
    org.rep_b.refresh_from_db()
    assert seen_teams(org.rep_b) == {"East A1"}


def test_moving_a_user_to_another_region(org):
    services.user_move_to_team(by=org.admin, user=org.rep_a1x, team=org.north)
    assert "rep_a1x" in seen_users(org.north_mgr)
    assert "rep_a1x" not in seen_users(org.east_mgr)
    assert "rep_a1x" in seen_users(org.head)


def test_moving_a_team_rewrites_the_subtree_and_visibility_follows(org):
    services.team_update(by=org.admin, team=org.east_a, parent=org.north)

    moved = {team.name: team for team in Team.objects.filter(name__startswith="East A")}
    assert moved["East A"].path == f"{org.north.path}{org.east_a.pk}/"
    assert moved["East A1"].path == f"{org.north.path}{org.east_a.pk}/{org.east_a1.pk}/"
    assert moved["East A1x"].path.startswith(moved["East A1"].path)
    assert [moved[n].depth for n in ("East A", "East A1", "East A1x")] == [2, 3, 4]
    # Untouched teams keep their paths.
    assert Team.objects.get(pk=org.east_b.pk).path == org.east_b.path

    assert not seen_users(org.east_mgr) & {"sup_a", "rep_a", "rep_a1", "rep_a1x"}
    assert {"sup_a", "rep_a", "rep_a1", "rep_a1x"} <= seen_users(org.north_mgr)
    assert {"East A", "East A1", "East A1x"} <= seen_teams(org.north_mgr)
    # The moved team's own manager still sees the same people.
    assert "rep_a1x" in seen_users(org.sup_a)


def test_moving_a_team_to_the_top_of_the_tree(org):
    services.team_update(by=org.admin, team=org.east_a1, parent=None)
    team = Team.objects.get(pk=org.east_a1.pk)
    assert (team.path, team.depth) == (f"/{team.pk}/", 0)
    child = Team.objects.get(pk=org.east_a1x.pk)
    assert (child.path, child.depth) == (f"/{team.pk}/{child.pk}/", 1)
    assert "rep_a1" not in seen_users(org.sup_a)


def test_a_team_cannot_move_below_its_own_subtree(org):
    with pytest.raises(ValidationError) as error:
        services.team_update(by=org.admin, team=org.east, parent=org.east_a1x)
    assert "parent" in error.value.message_dict
    assert Team.objects.get(pk=org.east.pk).path == org.east.path


def test_a_team_cannot_be_its_own_parent(org):
    with pytest.raises(ValidationError):
        services.team_update(by=org.admin, team=org.east, parent=org.east)


def _chain(depth):
    """A manager on top of a chain of `depth` teams, one rep in each."""
    top = TeamFactory()
    manager = ManagerFactory(team=top)
    parent = top
    for _ in range(depth - 1):
        parent = TeamFactory(parent=parent)
        RepFactory(team=parent)
    return manager, top


def _subtree_queries(manager, top):
    manager = User.objects.get(pk=manager.pk)
    with count_queries() as ctx:
        users = list(User.objects.visible_to(manager))
        teams = list(Team.objects.visible_to(manager))
        subtree = list(Team.objects.subtree_of(top))
        tree = selectors.team_tree(viewer=manager)
    return len(ctx), len(users), len(teams), len(subtree), tree


def test_reading_a_subtree_costs_the_same_queries_whatever_the_depth(db):
    shallow = _subtree_queries(*_chain(2))
    deep = _subtree_queries(*_chain(9))
    assert shallow[1:4] == (2, 2, 2)
    assert deep[1:4] == (9, 9, 9)
    assert shallow[0] == deep[0]
    # team_tree nests the teams it read in that one pass.
    node, depth = deep[4][0], 1
    while node["children"]:
        node, depth = node["children"][0], depth + 1
    assert depth == 9


def test_a_path_prefix_never_leaks_into_a_team_with_a_longer_id(db):
    """Team /7000001/ must not see team /70000011/: paths end with a slash, so "startswith" only
    matches real descendants."""
    short = Team.objects.create(pk=7000001, name="Short", path="/7000001/", depth=0)
    longer = Team.objects.create(pk=70000011, name="Longer", path="/70000011/", depth=0)
    boss = ManagerFactory(team=short)
    RepFactory(username="stranger", team=longer)
    assert "stranger" not in seen_users(boss)
    assert seen_teams(boss) == {"Short"}
    assert list(Team.objects.subtree_of(short)) == [short]

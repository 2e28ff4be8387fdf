"""Target pages: the planning grid (visibility, decompose, saving cells, asking before
replacing hand edits, copy from last year), the target list, my targets and the
leaderboard, with constant query counts."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone

from performance import selectors, services
from performance.models import Target
from tests.factories import RepFactory
from tests.performance.factories import target, won_deal
from tests.utils import assert_constant_queries

pytestmark = pytest.mark.django_db

Q2 = dt.date(2026, 4, 1)
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def plan_url(t):
    return reverse("performance:target_plan", args=[t.pk])


@pytest.fixture
def quarter(org):
    """East B's second quarter: 9,000 for rep_b and rep_b2."""
    RepFactory(username="rep_b2", team=org.east_b)
    return target(org.head, team=org.east_b, period_type="quarter", start=Q2, value=D("9000"))


def test_pages_open_for_each_role(org, quarter, client_for):
    for user in (org.rep_a, org.sup_b, org.east_mgr, org.admin):
        client = client_for(user)
        for name in ("target_list", "my_targets", "leaderboard"):
            assert client.get(reverse(f"performance:{name}"), **EN).status_code == 200, (user, name)


def test_the_grid_is_404_out_of_sight(org, quarter, client_for):
    assert client_for(org.rep_b).get(plan_url(quarter)).status_code == 404
    assert client_for(org.north_mgr).get(plan_url(quarter)).status_code == 404
    assert client_for(org.sup_a).post(plan_url(quarter), {"action": "decompose"}).status_code == 404
    assert client_for(org.sup_b).get(plan_url(quarter)).status_code == 200


def test_a_manager_decomposes_edits_and_is_asked_before_hand_edits_are_replaced(
    org, quarter, client_for
):
    client = client_for(org.east_mgr)
    response = client.post(plan_url(quarter), {"action": "decompose", "mode": "even"}, **EN)
    assert response.status_code == 302
    rows = list(services.split_children(quarter, "team").order_by("user__username"))
    assert [r.value for r in rows] == [D("4500.00"), D("4500.00")]
    cells = list(Target.objects.filter(parent=rows[0]).order_by("start"))
    assert [c.value for c in cells] == [D("1500.00")] * 3
    page = client.get(plan_url(quarter), **EN).content.decode()
    assert f'name="t{cells[0].pk}"' in page and "Copy from last year" in page

    values = {f"t{t.pk}": t.value for t in Target.objects.filter(parent__isnull=False)}
    values[f"t{cells[0].pk}"] = "2000"
    response = client.post(plan_url(quarter), {"action": "save", **values}, **EN)
    assert response.status_code == 302
    edited = Target.objects.get(pk=cells[0].pk)
    assert edited.value == D("2000.00") and edited.hand_edited
    page = client.get(plan_url(quarter), **EN).content.decode()
    assert "500.00" in page  # the row's difference against rep_b's 4,500

    response = client.post(plan_url(quarter), {"action": "decompose", "mode": "even"}, **EN)
    assert response.status_code == 200
    page = response.content.decode()
    assert "edited by hand" in page and "Replace the hand edits" in page
    assert Target.objects.get(pk=cells[0].pk).value == D("2000.00")
    response = client.post(
        plan_url(quarter), {"action": "decompose", "mode": "even", "overwrite": "on"}, **EN
    )
    assert response.status_code == 302
    assert Target.objects.get(pk=cells[0].pk).value == D("1500.00")


def test_bad_cells_change_nothing(org, quarter, client_for):
    client = client_for(org.east_mgr)
    client.post(plan_url(quarter), {"action": "decompose", "mode": "even"})
    values = {f"t{t.pk}": t.value for t in Target.objects.filter(parent__isnull=False)}
    first, second = list(values)[:2]
    response = client.post(
        plan_url(quarter), {"action": "save", **values, first: "-5", second: "lots"}, **EN
    )
    assert response.status_code == 200
    assert response.content.decode().count('class="error"') >= 2
    assert not Target.objects.filter(hand_edited=True).exists()


def test_a_rep_reads_their_plan_but_cannot_change_it(org, client_for):
    mine = target(org.head, user=org.rep_a, period_type="quarter", start=Q2)
    services.target_decompose(by=org.head, target=mine)
    client = client_for(org.rep_a)
    page = client.get(plan_url(mine), **EN).content.decode()
    assert "Save changes" not in page and "Decompose" not in page
    assert client.post(plan_url(mine), {"action": "decompose"}).status_code == 403
    mgr = client_for(org.sup_a).get(plan_url(mine), **EN).content.decode()
    assert "Save changes" in mgr


def test_copy_from_last_year_on_the_grid(org, client_for):
    last = target(
        org.head, user=org.rep_a, period_type="quarter", start=dt.date(2025, 4, 1), value=D("300")
    )
    services.target_decompose(
        by=org.head,
        target=last,
        mode="manual",
        weights={"2025-04-01": 1, "2025-05-01": 1, "2025-06-01": 1},
    )
    this = target(org.head, user=org.rep_a, period_type="quarter", start=Q2, value=D("1"))
    response = client_for(org.sup_a).post(plan_url(this), {"action": "copy"}, **EN)
    assert response.status_code == 302
    assert [t.value for t in this.children.order_by("start")] == [D("100.00")] * 3
    lonely = target(org.head, user=org.rep_a1, period_type="quarter", start=Q2)
    response = client_for(org.sup_a).post(plan_url(lonely), {"action": "copy"}, follow=True, **EN)
    assert "no target for the same period last year" in response.content.decode()


def test_target_list_shows_what_one_sees_and_managers_create(org, quarter, client_for):
    mine = target(org.head, user=org.rep_a, period_type="month", start=Q2)
    page = client_for(org.rep_a).get(reverse("performance:target_list"), **EN).content.decode()
    assert plan_url(mine) in page and plan_url(quarter) not in page
    assert "New target" not in page
    assert client_for(org.rep_a).post(reverse("performance:target_list"), {}).status_code == 403
    client = client_for(org.sup_b)
    response = client.post(
        reverse("performance:target_list"),
        {
            "period_type": "month",
            "start": "2026-05-03",
            "user": org.rep_b.pk,
            "metric": "revenue",
            "value": "1234",
        },
    )
    assert response.status_code == 302
    created = Target.objects.get(user=org.rep_b, period_type="month")
    assert created.start == dt.date(2026, 5, 1) and created.created_by == org.sup_b
    response = client.post(
        reverse("performance:target_list"),
        {
            "period_type": "month",
            "start": "2026-05-03",
            "user": org.rep_a.pk,
            "metric": "revenue",
            "value": "1",
        },
        **EN,
    )
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()


def test_my_targets_and_leaderboard_pages(org, client_for):
    on = timezone.localdate()
    won_deal(org.rep_a, 1234, on)
    target(org.head, user=org.rep_a, period_type="month", start=on, value=D("5000"))
    page = client_for(org.rep_a).get(reverse("performance:my_targets"), **EN).content.decode()
    assert "This month" in page and "This quarter" in page and "1234.00 / 5000.00" in page
    page = client_for(org.sup_a).get(reverse("performance:leaderboard"), **EN).content.decode()
    assert str(org.rep_a) in page and str(org.rep_b) not in page
    response = client_for(org.sup_a).get(reverse("performance:leaderboard"), {"metric": "x"}, **EN)
    assert response.status_code == 200


def test_grid_and_lists_queries_do_not_grow(org, client_for):
    team_target = target(
        org.head, team=org.east_b, period_type="quarter", start=Q2, value=D("100000")
    )
    client = client_for(org.east_mgr)

    def add(count):
        for _n in range(count):
            person = RepFactory(team=org.east_b)
            won_deal(person, 100, timezone.localdate())
            target(org.head, user=person, period_type="month", start=timezone.localdate())
        services.target_plan_decompose(by=org.head, target=team_target, overwrite=True)

    assert_constant_queries(add, lambda: client.get(plan_url(team_target)))
    assert_constant_queries(add, lambda: client.get(reverse("performance:target_list")))
    assert_constant_queries(add, lambda: client.get(reverse("performance:leaderboard")))


def test_the_grid_shows_members_sub_teams_and_people_who_left(org, client_for):
    """A region's grid: its own active rep and sub-teams as rows (not its manager, not an
    inactive member), each with its monthly cells; a rep who moved away keeps their row and
    name."""
    inactive = RepFactory(username="inactive", team=org.east)
    type(inactive).objects.filter(pk=inactive.pk).update(is_active=False)
    region = target(org.head, team=org.east, period_type="quarter", start=Q2, value=D("9000"))
    services.target_plan_decompose(by=org.head, target=region, overwrite=True)
    services.target_decompose(by=org.head, target=region, split="time")
    type(org.rep_east).objects.filter(pk=org.rep_east.pk).update(team=org.north)
    grid = selectors.planning_grid(viewer=org.east_mgr, parent=region)
    assert [row["name"] for row in grid["rows"]] == ["East A", "East B", str(org.rep_east)]
    assert grid["row_target_total"] == D("9000.00") and grid["difference"] == D("0.00")
    for row in grid["rows"]:
        assert len(row["cells"]) == 3 and row["difference"] == 0
        assert sum(cell.value for cell in row["cells"]) == row["target"].value
    assert [column["total"] for column in grid["columns"]] == [
        column["target"].value for column in grid["columns"]
    ]
    assert grid["cells_total"] == D("9000.00") and grid["editable"]
    page = client_for(org.east_mgr).get(plan_url(region), **EN).content.decode()
    first = grid["rows"][2]["cells"][0]
    assert f'name="t{first.pk}"' in page and f'value="{first.value}"' in page

"""The manager dashboard: its figures are the pipeline selectors' figures, for each role and
scope; what the viewer may not see answers 404 or stays off the page; lists are capped and
the number of queries does not grow with deals or reps."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Account
from performance.models import Target
from pipeline import selectors, services
from pipeline.models import Deal, ForecastSnapshot
from salesmgmt.dashboards import views
from tests.customers.factories import AccountFactory
from tests.factories import RepFactory
from tests.pipeline.test_reports import at, move, new_deal
from tests.utils import assert_constant_queries

pytestmark = pytest.mark.django_db

URL = reverse("dashboards:manager")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def scenario(funnel_scenario):
    """The funnel scenario of tests/pipeline/test_reports.py, whose figures are worked out by
    hand there: a month two months back, in the east_a subtree.

    d1 rep_a   100,000  day 0 created in L; day 2 → N; day 7 → W (won, skips D and P)
    d2 rep_a   200,000  day 1 created in L; day 5 → D (skips N); day 15 → lost
    d3 rep_a1  300,000  day 4 created in L; day 5 → N; still there
    d4 rep_a1   50,000  day 9 created in N; day 10 → L (back); still there
    d5 rep_b    70,000  day 0 created in L (another team)
    h1 rep_a    10,000  200 days before: created in L; +1 → N; +2 → D; +3 → lost
    """
    start, end = funnel_scenario
    return {"start": start, "end": end}


def custom(scenario, **extra):
    return {
        "period": "custom",
        "start": scenario["start"].isoformat(),
        "end": scenario["end"].isoformat(),
        **extra,
    }


def stage_rows(html: str) -> dict[int, str]:
    return {
        int(pk): row
        for pk, row in re.findall(r'<tr data-stage="(\d+)"[^>]*>(.*?)</tr>', html, re.DOTALL)
    }


def cell(row: str, name: str) -> str:
    match = re.search(rf'<td class="num {name}[^"]*">(.*?)</td>', row, re.DOTALL)
    assert match, (name, row)
    return re.sub(r"<[^>]+>", "", match.group(1)).split("(")[0].strip()


def user_rows(html: str) -> dict[int, str]:
    return {
        int(pk): row for pk, row in re.findall(r'<tr data-user="(\d+)">(.*?)</tr>', html, re.DOTALL)
    }


def percent(value) -> str:
    return "—" if value is None else f"{value:.1f}%"


def test_the_funnel_table_on_the_page_shows_the_selectors_figures(
    org, stages, scenario, client_for
):
    response = client_for(org.sup_a).get(URL, custom(scenario), **EN)
    assert response.status_code == 200
    scope = selectors.resolve_scope(viewer=org.sup_a, kind="all")
    expected = selectors.funnel(
        viewer=org.sup_a,
        pipeline=stages["L"].pipeline,
        start=scenario["start"],
        end=scenario["end"],
        scope=scope,
    )
    assert response.context["funnel"]["stages"] == expected["stages"]
    html = response.content.decode()
    rows = stage_rows(html)
    assert list(rows) == [row["stage"] for row in expected["stages"]]
    for row in expected["stages"]:
        shown = rows[row["stage"]]
        assert cell(shown, "in-stage") == str(row["in_stage_count"])
        assert cell(shown, "entered") == str(row["entered"])
        assert cell(shown, "advanced") == str(row["advanced"])
        assert cell(shown, "lost") == str(row["lost"])
        assert cell(shown, "conversion") == percent(row["conversion"])
        assert cell(shown, "over-sla") == str(row["over_sla"])
        assert ("Bottleneck" in shown) is row["bottleneck"]
    # The figures worked out by hand for this scenario.
    lead, needs = rows[stages["L"].pk], rows[stages["N"].pk]
    assert (cell(lead, "entered"), cell(lead, "advanced"), cell(lead, "conversion")) == (
        "4",
        "3",
        "75.0%",
    )
    assert (cell(needs, "entered"), cell(needs, "conversion")) == ("4", "50.0%")
    assert "Bottleneck" in lead and "Bottleneck" in needs
    assert "Bottleneck" not in rows[stages["D"].pk]
    assert re.search(r'class="win-rate">50.0%', html)
    assert "7.0 days" in html
    # The definitions, in the API schema's words.
    for words in (
        "advanced / entered in percent.",
        "Conversion at least 10 points below the trailing four quarters.",
        "The rep's conversion is at least 10 points below the scope's.",
        "won / (won + lost) in percent.",
        "Days the deals won in the range spent in open stages, on average.",
    ):
        assert words in html


def test_the_funnel_chart_has_a_bar_pair_per_stage(org, stages, scenario, client_for):
    response = client_for(org.sup_a).get(URL, custom(scenario), **EN)
    html = response.content.decode()
    svg = re.search(
        r'<svg xmlns="http://www.w3.org/2000/svg"[^>]*chart-funnel.*?</svg>', html, re.S
    )
    assert svg
    assert svg.group(0).count('<rect class="bar"') == 2 * len(response.context["funnel"]["stages"])


def test_the_per_rep_comparison_shows_the_visible_people_with_their_figures(
    org, stages, scenario, client_for
):
    response = client_for(org.sup_a).get(URL, custom(scenario), **EN)
    html = response.content.decode()
    rows = user_rows(html)
    visible = {org.sup_a, org.lead_a1, org.lead_a1x, org.rep_a, org.rep_a1, org.rep_a1x}
    assert set(rows) == {user.pk for user in visible}
    assert org.rep_b.pk not in rows and org.rep_b.display_name not in html
    # The largest open amount first: rep_a1 holds d3 and d4.
    assert list(rows)[:2] == [org.rep_a1.pk, org.rep_a.pk]
    rep_a, rep_a1 = rows[org.rep_a.pk], rows[org.rep_a1.pk]
    assert (cell(rep_a1, "open-count"), cell(rep_a1, "open-amount")) == ("2", "350,000")
    assert (cell(rep_a, "open-count"), cell(rep_a, "won-amount")) == ("0", "100,000")
    assert cell(rep_a, "win-rate") == "50.0%" and cell(rep_a1, "win-rate") == "—"
    conversions = re.findall(r'<td class="num rep-conversion( bottleneck)?">(.*?)</td>', rep_a1)
    # rep_a1: L 50 % and N 0 %, both 10 points or more below the team's 75 % and 50 %.
    assert [(flag, re.sub(r"<[^>]+>", "", text).split()[0]) for flag, text in conversions] == [
        (" bottleneck", "50.0%"),
        (" bottleneck", "0.0%"),
        ("", "—"),
        ("", "—"),
    ]
    rep_a_conversions = re.findall(r'<td class="num rep-conversion( bottleneck)?">', rep_a)
    assert rep_a_conversions == ["", "", "", ""]
    link = f"?scope=rep:{org.rep_a.pk}&amp;period=custom&amp;start={scenario['start']}"
    assert link in rep_a


def test_the_comparison_selector_in_figures(org, stages, scenario):
    scope = selectors.resolve_scope(viewer=org.east_mgr, kind="team", team_id=org.east_a.pk)
    result = selectors.rep_comparison(
        viewer=org.east_mgr,
        scope=scope,
        pipeline=stages["L"].pipeline,
        start=scenario["start"],
        end=scenario["end"],
        limit=2,
    )
    assert result["total"] == 6
    figures = [
        (
            row["user"],
            row["open_count"],
            row["open_amount"],
            row["won_count"],
            row["won_amount"],
            row["lost_count"],
            row["win_rate"],
        )
        for row in result["rows"]
    ]
    assert figures == [
        (org.rep_a1, 2, Decimal("350000.00"), 0, Decimal("0.00"), 0, None),
        (org.rep_a, 0, Decimal("0.00"), 1, Decimal("100000.00"), 1, Decimal("50.0")),
    ]
    mine = selectors.rep_comparison(
        viewer=org.rep_b,
        scope=selectors.resolve_scope(viewer=org.rep_b, kind="all"),
        pipeline=stages["L"].pipeline,
        start=scenario["start"],
        end=scenario["end"],
    )
    assert [(row["user"], row["open_count"]) for row in mine["rows"]] == [(org.rep_b, 1)]


def test_a_person_who_left_still_shows_while_they_own_open_deals(org, stages, scenario):
    org.rep_a1.is_active = False
    org.rep_a1.save()
    org.rep_a1x.is_active = False
    org.rep_a1x.save()
    scope = selectors.resolve_scope(viewer=org.sup_a, kind="all")
    result = selectors.rep_comparison(
        viewer=org.sup_a,
        scope=scope,
        pipeline=stages["L"].pipeline,
        start=scenario["start"],
        end=scenario["end"],
    )
    people = {row["user"] for row in result["rows"]}
    assert org.rep_a1 in people and org.rep_a1x not in people


def test_the_team_and_rep_scopes(org, stages, scenario, client_for):
    client = client_for(org.east_mgr)
    team = client.get(URL, custom(scenario, scope=f"team:{org.east_a1.pk}"), **EN)
    assert team.status_code == 200
    assert team.context["scope"].team == org.east_a1
    assert set(user_rows(team.content.decode())) == {
        org.lead_a1.pk,
        org.lead_a1x.pk,
        org.rep_a1.pk,
        org.rep_a1x.pk,
    }
    rep = client.get(URL, custom(scenario, scope=f"rep:{org.rep_a.pk}"), **EN)
    assert rep.status_code == 200
    rows = stage_rows(rep.content.decode())
    expected = selectors.funnel(
        viewer=org.east_mgr,
        pipeline=stages["L"].pipeline,
        start=scenario["start"],
        end=scenario["end"],
        scope=selectors.Scope("rep", user=org.rep_a),
    )
    for row in expected["stages"]:
        assert cell(rows[row["stage"]], "entered") == str(row["entered"])
    assert cell(rows[stages["L"].pk], "entered") == "2"
    assert rep.context["comparison"] is None and "data-user=" not in rep.content.decode()


def test_a_rep_sees_their_own_deals_without_a_scope_picker(org, stages, scenario, client_for):
    response = client_for(org.rep_a1).get(URL, custom(scenario), **EN)
    assert response.status_code == 200
    assert response.context["scope"].kind == "me"
    html = response.content.decode()
    assert 'name="scope" value="me"' in html and '<select name="scope"' not in html
    rows = stage_rows(html)
    assert (cell(rows[stages["L"].pk], "entered"), cell(rows[stages["L"].pk], "advanced")) == (
        "2",
        "1",
    )
    assert cell(rows[stages["N"].pk], "in-stage") == "1"
    assert "data-user=" not in html


@pytest.mark.parametrize(
    "viewer, scope",
    [
        ("rep_a", "team:east_a"),  # a rep's own team
        ("rep_a", "rep:rep_a1"),  # a sibling
        ("rep_a1", "rep:rep_a"),
        ("sup_a", "team:east_b"),  # another team
        ("sup_a", "rep:rep_b"),
        ("sup_a", "team:east"),  # the team above
        ("north_mgr", "rep:rep_a"),
    ],
)
def test_a_team_or_person_out_of_sight_is_not_found(org, stages, client_for, viewer, scope):
    kind, name = scope.split(":")
    target = getattr(org, name)
    response = client_for(getattr(org, viewer)).get(URL, {"scope": f"{kind}:{target.pk}"})
    assert response.status_code == 404


def test_an_unknown_team_or_person_is_not_found(org, stages, client_for):
    client = client_for(org.admin)
    assert client.get(URL, {"scope": "team:999999"}).status_code == 404
    assert client.get(URL, {"scope": "rep:999999"}).status_code == 404


@pytest.mark.parametrize(
    "query, field",
    [
        ({"scope": "team:abc"}, "scope"),
        ({"scope": "everything"}, "scope"),
        ({"period": "year"}, "period"),
        ({"period": "custom", "start": "2026-05-01"}, "end"),
        ({"period": "custom", "start": "2026-05-10", "end": "2026-05-01"}, "end"),
        ({"period": "custom", "start": "2020-01-01", "end": "2026-01-01"}, "end"),
        ({"period": "custom", "start": "someday", "end": "2026-01-01"}, "start"),
        ({"pipeline": "999999"}, "pipeline"),
    ],
)
def test_bad_pickers_answer_400_with_the_field_named(org, stages, client_for, query, field):
    response = client_for(org.sup_a).get(URL, query, **EN)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert "data-stage=" not in response.content.decode()


def test_every_offered_scope_opens(org, stages, client_for):
    client = client_for(org.east_mgr)
    choices = client.get(URL).context["form"].fields["scope"].widget.choices
    values = []
    for value, label in choices:
        if isinstance(label, list):  # a group: teams or people
            values.extend(option for option, _name in label)
        else:
            values.append(value)
    teams = {org.east.pk, org.east_a.pk, org.east_b.pk, org.east_a1.pk, org.east_a1x.pk}
    assert {int(v.split(":")[1]) for v in values if v.startswith("team:")} == teams
    people = {int(v.split(":")[1]) for v in values if v.startswith("rep:")}
    assert org.rep_b.pk in people and org.rep_north.pk not in people
    for value in values:
        assert client.get(URL, {"scope": value}).status_code == 200, value


def test_the_default_period_is_this_month_to_date(org, stages, client_for):
    response = client_for(org.sup_a).get(URL, **EN)
    today = timezone.localdate()
    assert response.context["start"] == today.replace(day=1)
    assert response.context["end"] == today
    assert response.context["scope"].kind == "all"
    quarter = client_for(org.sup_a).get(URL, {"period": "quarter"}, **EN)
    assert quarter.context["start"] == selectors.period_bounds("quarter", today)[0]
    assert quarter.context["forecast"]["period"] == "quarter"


def test_an_admin_sees_everyone(org, stages, scenario, client_for):
    response = client_for(org.admin).get(URL, custom(scenario), **EN)
    assert response.status_code == 200
    assert "Everyone" in response.content.decode()
    assert org.rep_b.pk in user_rows(response.content.decode())


@pytest.fixture
def forecast_deals(org, stages):
    today = timezone.localdate()
    earlier = timezone.now() - timedelta(days=3)
    won = new_deal(org.rep_a, "80000", earlier)
    move(won, stages["W"], timezone.now(), closed_at=today)
    commit = new_deal(org.rep_a, "100000", earlier, expected_close=today, stage=stages["N"])
    services.deal_update(by=None, deal=commit, forecast_category="commit")
    new_deal(org.rep_a1, "40000", earlier, expected_close=today, probability_override=20)
    new_deal(org.rep_b, "900000", earlier, expected_close=today, stage=stages["D"])
    return today


def test_forecast_tiles_show_the_selectors_figures_and_no_target_says_so(
    org, stages, forecast_deals, client_for
):
    response = client_for(org.sup_a).get(URL, **EN)
    html = response.content.decode()
    expected = selectors.forecast(
        viewer=org.sup_a, scope=selectors.resolve_scope(viewer=org.sup_a, kind="all")
    )
    assert response.context["forecast"].items() >= expected.items()
    assert expected["closed_won"] == Decimal("80000.00")
    assert expected["commit"] == Decimal("100000.00")
    for key in ("closed_won", "commit", "best_case", "pipeline", "weighted", "win_rate_forecast"):
        tile = re.search(rf'class="tile tile-{key}">(.*?)</div>', html, re.S).group(1)
        value = re.search(r'class="tile-value">(.*?)<', tile).group(1)
        assert value == f"{expected[key]:,.0f}", key
    assert "900,000" not in html  # rep_b's deal is another team's
    target = re.search(r'<section class="card target-slot".*?</section>', html, re.S).group(0)
    assert "No revenue target is set for this scope and period." in target
    assert reverse("performance:target_list") in target


def test_the_forecast_is_read_against_the_teams_target_and_people_by_pace(
    org, stages, forecast_deals, client_for
):
    month_start = forecast_deals.replace(day=1)
    for team, value in ((org.east_a, "400000"), (org.east_b, "999000")):
        Target.objects.create(
            team=team,
            period_type="month",
            start=month_start,
            end=selectors.period_bounds("month", month_start)[1],
            metric="revenue",
            value=Decimal(value),
        )
    for rep, value in ((org.rep_a, "50000"), (org.rep_a1, "100000")):
        Target.objects.create(
            user=rep,
            period_type="month",
            start=month_start,
            end=selectors.period_bounds("month", month_start)[1],
            metric="revenue",
            value=Decimal(value),
        )

    response = client_for(org.sup_a).get(URL, **EN)
    html = response.content.decode()

    target = re.search(r'<section class="card target-slot".*?</section>', html, re.S).group(0)
    # East A's target only (east B is another manager's): 80,000 won, 100,000 committed.
    assert '<dd class="target-value">400,000</dd>' in target
    assert '80,000 <span class="muted">(20.0%)</span>' in target
    assert '180,000 <span class="muted">(45.0%)</span>' in target
    assert '<dd class="target-gap error">220,000</dd>' in target
    paced = re.findall(r'data-pace-user="(\d+)"', html)
    # rep_a1 has won nothing of 100,000, so is furthest behind; rep_a has won beyond target;
    # people without a target come last.
    assert paced[:2] == [str(org.rep_a1.pk), str(org.rep_a.pk)]
    assert str(org.rep_b.pk) not in paced
    leaders = re.findall(r'data-leader="(\d+)"', html)
    assert leaders[0] == str(org.rep_a.pk)
    assert str(org.rep_b.pk) not in leaders


def test_trends_and_accuracy_come_from_the_snapshots(org, stages, forecast_deals, client_for):
    services.funnel_rollup(day=forecast_deals)
    services.forecast_rollup(today=forecast_deals)
    previous_start, previous_end = selectors.period_bounds(
        "month", forecast_deals.replace(day=1) - timedelta(days=1)
    )
    ForecastSnapshot.objects.create(
        taken_on=previous_start,
        owner=org.rep_a,
        team=org.east_a,
        period_kind="month",
        period_start=previous_start,
        period_end=previous_end,
        commit=Decimal("60000"),
        weighted=Decimal("90000"),
        win_rate_forecast=Decimal("100000"),
    )
    old = new_deal(org.rep_a, "80000", at(previous_start))
    move(old, stages["W"], at(previous_start + timedelta(days=3)), closed_at=previous_start)
    response = client_for(org.sup_a).get(URL, **EN)
    html = response.content.decode()
    assert "chart-line" in html
    assert response.context["funnel_trend_chart"] is not None
    assert response.context["forecast_trend_chart"] is not None
    accuracy = response.context["accuracy"]
    assert accuracy["start"] == previous_start and accuracy["actual_won"] == Decimal("80000.00")
    section = re.search(r'<section class="card accuracy".*?</section>', html, re.S).group(0)
    assert "25.0%" in section and "-25.0%" in section  # win-rate forecast and commit errors


def test_without_snapshots_the_trends_say_so(org, stages, client_for):
    response = client_for(org.sup_a).get(URL, **EN)
    html = response.content.decode()
    assert "No funnel snapshots in this range yet" in html
    assert "No forecast snapshots for this period yet" in html


def test_stale_deals_and_late_first_contacts_in_scope_capped_and_linked(org, stages, client_for):
    long_ago = timezone.now() - timedelta(days=30)  # past the lead stage's 14 SLA days
    for number in range(views.STALE_ROWS + 2):
        new_deal(org.rep_a, str(1000 + number), long_ago)
    outside = new_deal(org.rep_b, "5000", long_ago)
    late = new_deal(org.rep_a1, "7000", timezone.now())
    Deal.objects.filter(pk=late.pk).update(created_at=timezone.now() - timedelta(days=2))
    lead = AccountFactory(owner=org.rep_a1, status=Account.Status.LEAD, name="Quiet lead")
    Account.objects.filter(pk=lead.pk).update(created_at=timezone.now() - timedelta(days=2))
    hidden = AccountFactory(owner=org.rep_b, status=Account.Status.LEAD, name="Other lead")
    Account.objects.filter(pk=hidden.pk).update(created_at=timezone.now() - timedelta(days=2))

    response = client_for(org.sup_a).get(URL, **EN)
    html = response.content.decode()
    assert response.context["stale_count"] == views.STALE_ROWS + 2
    stale = re.search(r'<section class="card stale-deals".*?</section>', html, re.S).group(0)
    assert stale.count("<a href=") == views.STALE_ROWS
    first = response.context["stale"][0]["deal"]
    assert f'href="{selectors.deal_link(first.pk)}"' in stale
    assert f"Showing {views.STALE_ROWS} of {views.STALE_ROWS + 2} deals." in stale
    assert outside.name not in html
    late_section = re.search(r'<section class="card over-sla".*?</section>', html, re.S).group(0)
    assert late.name in late_section and f'href="{selectors.deal_link(late.pk)}"' in late_section
    assert "Quiet lead" in late_section
    assert reverse("customers:account_detail", args=[lead.pk]) in late_section
    assert "Other lead" not in html


def test_the_side_navigation_offers_the_dashboard_to_managers_only(org, client_for):
    manager_page = client_for(org.sup_a).get(reverse("dashboards:home"), **EN).content.decode()
    assert f'href="{URL}"' in manager_page and "Team dashboard" in manager_page
    rep_page = client_for(org.rep_a).get(reverse("dashboards:home"), **EN).content.decode()
    assert f'href="{URL}"' not in rep_page


def test_the_page_needs_a_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


def _add_deals(owner, stages):
    def add(count):
        for _number in range(count):
            deal = new_deal(owner, "1000", timezone.now() - timedelta(days=20))
            move(deal, stages["N"], timezone.now() - timedelta(days=1))

    return add


def test_queries_do_not_grow_with_deals(org, stages, client_for):
    client = client_for(org.sup_a)
    assert_constant_queries(_add_deals(org.rep_a, stages), lambda: client.get(URL))


def test_queries_do_not_grow_with_reps(org, stages, client_for):
    client = client_for(org.sup_a)

    def add_reps(count):
        for _number in range(count):
            rep = RepFactory(team=org.east_a1)
            _add_deals(rep, stages)(1)
            lost = new_deal(rep, "500", timezone.now() - timedelta(days=2))
            move(lost, stages["X"], timezone.now(), lost_reason="price")

    assert_constant_queries(add_reps, lambda: client.get(URL), small=2, large=6)

from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db.models import Sum
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from customers import selectors as customer_selectors
from incentives import selectors as incentive_selectors
from performance import selectors as performance_selectors
from performance.models import Metric
from pipeline import selectors as pipeline_selectors
from pipeline.models import Pipeline
from salesmgmt.dashboards import panels
from salesmgmt.dashboards.forms import DashboardForm
from teams import selectors as team_selectors
from teams.models import Role
from training import selectors as training_selectors

# Lists on the pages stay short, whatever the size of the company.
CLOSING_ROWS = 8
STALE_ROWS = 15
OVER_SLA_ROWS = 10
REP_ROWS = 50
COURSE_ROWS = 5
ESTIMATE_ROWS = 3
PACE_ROWS = 15
LEADERBOARD_ROWS = 10
TRAINING_ROWS = 10


def _default_pipeline() -> Pipeline | None:
    try:
        return pipeline_selectors.default_pipeline()
    except Pipeline.DoesNotExist:
        return None


def _my_pipeline_cards(user) -> dict:
    """ "My deals by stage" of the default pipeline and "closing this month"."""
    pipeline = _default_pipeline()
    if pipeline is None:
        return {}
    today = timezone.localdate()
    month_start, month_end = pipeline_selectors.period_bounds("month", today)
    deal_list_url = reverse("pipeline:deal_list")
    my_stages = pipeline_selectors.deals_by_stage(viewer=user, pipeline=pipeline, owner=user)
    for row in my_stages:
        query = urlencode({"owner": user.pk, "stage": row["stage"].pk, "status": "open"})
        row["link"] = f"{deal_list_url}?{query}"
    closing = list(
        pipeline_selectors.deals_closing(viewer=user, start=month_start, end=month_end).filter(
            owner=user
        )[: CLOSING_ROWS + 1]
    )
    return {
        "my_pipeline": pipeline,
        "my_stages": my_stages,
        "closing": [
            {"deal": deal, "link": pipeline_selectors.deal_link(deal.pk)}
            for deal in closing[:CLOSING_ROWS]
        ],
        "closing_more": len(closing) > CLOSING_ROWS,
        "closing_list_url": f"{deal_list_url}?"
        + urlencode(
            {
                "owner": user.pk,
                "status": "open",
                "expected_close_after": month_start.isoformat(),
                "expected_close_before": month_end.isoformat(),
            }
        ),
    }


def _my_money_cards(user) -> dict:
    """ "My target pace" (month and quarter) and "My commission": this period's statement
    and the year so far."""
    today = timezone.localdate()
    statements = incentive_selectors.my_statements(viewer=user).filter(user=user)
    year = statements.filter(start__year=today.year).aggregate(total=Sum("total"))["total"]
    return {
        "my_targets": performance_selectors.my_targets(viewer=user, on=today),
        "my_statement": statements.filter(start__lte=today, end__gte=today).first(),
        "my_commission_year": year,
    }


def _my_training_cards(user) -> dict:
    """ "My courses due" and "Recommended for you" (from the gaps in the person's funnel
    and latest review)."""
    return {
        "courses_due": training_selectors.courses_due(user=user, limit=COURSE_ROWS),
        "recommended": training_selectors.recommendations(user=user)[:COURSE_ROWS],
    }


@login_required
def home(request):
    """Home page for every role, composed from the apps' selectors."""
    user = request.user
    context = {
        "manager": team_selectors.manager_of(user),
        "reports": list(team_selectors.direct_reports(user)),
        "managed_teams": list(team_selectors.team_list(viewer=user).filter(manager=user)),
        "recent_notifications": list(
            team_selectors.notification_list(user=user, unread_only=True)[:5]
        ),
        "followups": customer_selectors.my_followups(user=user),
        **_my_pipeline_cards(user),
        **_my_money_cards(user),
        **_my_training_cards(user),
    }
    context["estimates"] = _closing_estimates(
        user, [item["deal"] for item in context.get("closing", [])]
    )
    return render(request, "dashboards/home.html", context)


def _closing_estimates(user, deals) -> list[dict]:
    """What the largest of my deals closing this month would each pay me if won, given my
    plan and what I have won so far (each estimate reads the plan and period afresh, so only
    a few are shown)."""
    largest = sorted(
        (deal for deal in deals if deal.amount is not None), key=lambda deal: -deal.amount
    )[:ESTIMATE_ROWS]
    estimates = [incentive_selectors.commission_estimate(deal=deal, user=user) for deal in largest]
    return [estimate for estimate in estimates if estimate["plan"] and estimate["share"]]


def _people_by_pace(viewer, scope, period: dict) -> list[dict]:
    """The people of a team scope against their revenue target for the forecast's period,
    furthest behind pace first; people without a target last."""
    if scope.kind not in ("team", "all"):
        return []
    today = timezone.localdate()
    rows = performance_selectors.users_attainment(
        users=pipeline_selectors.scope_users(viewer=viewer, scope=scope).filter(
            is_active=True, role__in=(Role.REP, Role.SUPERVISOR)
        ),
        metric=Metric.REVENUE,
        period_type=period["forecast_kind"],
        on=min(today, period["forecast_end"]),
    )
    return sorted(
        rows,
        key=lambda row: (
            row["target"] is None,
            row["pace_percent"] if row["pace_percent"] is not None else Decimal(0),
            row["user"].display_name,
        ),
    )


def _training_rows(viewer, scope) -> list[dict]:
    """The courses recommended to the people of a team scope, one row per person and course,
    with an "Assign" button for the people the viewer manages."""
    if scope.kind not in ("team", "all"):
        return []
    people = list(
        pipeline_selectors.scope_users(viewer=viewer, scope=scope)
        .filter(is_active=True, role__in=(Role.REP, Role.SUPERVISOR))
        .select_related("team")
        .order_by("team__path", "username")
    )
    recommended = training_selectors.recommendations_by_user(people)
    assignable = set(
        training_selectors.assignable_people(viewer)
        .filter(pk__in=[person.pk for person in people])
        .values_list("pk", flat=True)
    )
    rows = [
        {**row, "person": person, "can_assign": person.pk in assignable}
        for person in people
        for row in recommended[person.pk]
    ]
    return rows[: TRAINING_ROWS + 1]


def _period(data: dict, today) -> dict:
    """The funnel's date range and the forecast's month or quarter for the picked period; a
    custom range is forecast for the month holding its last day."""
    if data["period"] == DashboardForm.CUSTOM:
        start, end = data["start"], data["end"]
        kind, on = "month", end
    else:
        kind, on = data["period"], today
        start, end = pipeline_selectors.period_bounds(kind, today)[0], today
    forecast_start, forecast_end = pipeline_selectors.period_bounds(kind, on)
    return {
        "start": start,
        "end": end,
        "forecast_kind": kind,
        "forecast_on": on,
        "forecast_start": forecast_start,
        "forecast_end": forecast_end,
    }


@login_required
def manager(request):
    """The manager dashboard for a scope the viewer may look at (their subtree by default; a
    rep's own deals), a pipeline and a period. An invisible team or person answers 404."""
    viewer = request.user
    manages = team_selectors.is_manager(viewer)
    data = {"scope": "all" if manages else "me", "period": DashboardForm.MONTH}
    data.update(request.GET.items())
    form = DashboardForm(data, viewer=viewer, manages=manages)
    if not form.is_valid():
        return render(request, "dashboards/manager.html", {"form": form}, status=400)
    scope = pipeline_selectors.resolve_scope(viewer=viewer, **form.scope_arguments())
    pipeline = form.cleaned_data["pipeline"] or _default_pipeline()
    if pipeline is None:
        return render(request, "dashboards/manager.html", {"form": form, "scope": scope})
    today = timezone.localdate()
    period = _period(form.cleaned_data, today)
    start, end = period["start"], period["end"]

    funnel = pipeline_selectors.funnel(
        viewer=viewer, pipeline=pipeline, start=start, end=end, scope=scope
    )
    forecast_arguments = {
        "viewer": viewer,
        "scope": scope,
        "period": period["forecast_kind"],
    }
    # The forecast with the scope's revenue target for the same month or quarter.
    forecast = performance_selectors.forecast_against_target(
        **forecast_arguments, on=period["forecast_on"]
    )
    pace_rows = _people_by_pace(viewer, scope, period)
    training_rows = _training_rows(viewer, scope)
    leaderboard = performance_selectors.leaderboard(
        viewer=viewer,
        metric=Metric.REVENUE,
        period_type=period["forecast_kind"],
        on=min(today, period["forecast_end"]),
    )
    accuracy = pipeline_selectors.forecast_accuracy(
        **forecast_arguments, on=period["forecast_start"] - timedelta(days=1)
    )
    funnel_trend = pipeline_selectors.funnel_trend(
        viewer=viewer, pipeline=pipeline, start=start, end=end, scope=scope
    )
    forecast_trend = pipeline_selectors.forecast_trend(
        **forecast_arguments, on=period["forecast_on"]
    )

    stale = pipeline_selectors.stale_deals(viewer=viewer).filter(scope.q(), pipeline=pipeline)
    over_sla = pipeline_selectors.over_sla_leads(viewer=viewer)
    late_deals = over_sla["deals"].filter(scope.q(), pipeline=pipeline)
    late_leads = over_sla["leads"].filter(scope.q())

    comparison = None
    if scope.kind in ("team", "all"):
        comparison = pipeline_selectors.rep_comparison(
            viewer=viewer, scope=scope, pipeline=pipeline, start=start, end=end, limit=REP_ROWS
        )

    base_query = {key: value for key, value in request.GET.items() if key in ("pipeline", "period")}
    if form.cleaned_data["period"] == DashboardForm.CUSTOM:
        base_query.update(start=start.isoformat(), end=end.isoformat())

    context = {
        "form": form,
        "manages": manages,
        "scope": scope,
        "pipeline": pipeline,
        **period,
        "funnel": funnel,
        "funnel_chart": panels.funnel_figure(funnel),
        "funnel_trend_chart": panels.funnel_trend_figure(funnel_trend, funnel),
        "forecast": forecast,
        "forecast_tiles": panels.forecast_tiles(forecast),
        "forecast_chart": panels.forecast_figure(forecast),
        "forecast_trend_chart": panels.forecast_trend_figure(forecast_trend),
        "accuracy": accuracy,
        "accuracy_rows": (
            [
                (label, accuracy["forecast"][key], accuracy["error_percent"].get(key))
                for key, label in panels.forecast_labels()
                if key != "closed_won"
            ]
            if accuracy
            else []
        ),
        "stale_count": stale.count(),
        "stale": [
            {"deal": deal, "link": pipeline_selectors.deal_link(deal.pk)}
            for deal in stale[:STALE_ROWS]
        ],
        "late_deal_count": late_deals.count(),
        "late_deals": [
            {"deal": deal, "link": pipeline_selectors.deal_link(deal.pk)}
            for deal in late_deals[:OVER_SLA_ROWS]
        ],
        "late_lead_count": late_leads.count(),
        "late_leads": list(late_leads[:OVER_SLA_ROWS]),
        "comparison": comparison,
        "won_and_commit": forecast["closed_won"] + forecast["commit"],
        "pace_rows": pace_rows[:PACE_ROWS],
        "behind_count": sum(1 for row in pace_rows if row["behind"]),
        "leaderboard_rows": leaderboard["rows"][:LEADERBOARD_ROWS],
        "training_rows": training_rows[:TRAINING_ROWS],
        "training_more": len(training_rows) > TRAINING_ROWS,
        "training_team_url": reverse("training:team"),
        "targets_url": reverse("performance:target_list"),
        "leaderboard_url": reverse("performance:leaderboard"),
        "rep_rows": panels.rep_rows(comparison, funnel) if comparison else [],
        "open_stages": [row for row in funnel["stages"] if not row["is_won"]],
        "rep_query": urlencode(base_query),
        "now": timezone.now(),
    }
    return render(request, "dashboards/manager.html", context)

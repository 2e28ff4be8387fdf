"""Browser pages of the performance app: thin views over performance.selectors and
performance.services (DESIGN.md §3, §11.6)."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from performance import periods, selectors, services
from performance.filtersets import ExpenseFilterSet, ReviewFilterSet, TargetFilterSet
from performance.forms import (
    AcknowledgeForm,
    CheckInForm,
    CopyLastYearForm,
    DecomposeForm,
    ExpenseForm,
    ExpenseRejectForm,
    FeedbackAnswerForm,
    FeedbackInviteForm,
    ImprovementActionForm,
    ImprovementPlanForm,
    LeaderboardForm,
    PlanStatusForm,
    ReviewCycleForm,
    ReviewScoreForm,
    TargetForm,
    TargetGridForm,
    review_cycle_teams,
)
from performance.models import (
    ImprovementPlan,
    Metric,
    PeriodType,
    RaterKind,
    Review,
    ReviewCycle,
)

PAGE_SIZE = 50

# Targets, attainment and leaderboards


def _errors_to_messages(request, error: ValidationError) -> None:
    for text in error.messages:
        messages.error(request, text)


@login_required
def target_list(request):
    filterset = TargetFilterSet(
        request.GET or None,
        queryset=selectors.target_list(viewer=request.user),
        request=request,
    )
    page = Paginator(filterset.qs.order_by("-start", "period_type", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    can_set = services.can_set_targets(request.user)
    form = None
    if can_set:
        form = TargetForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                target = services.target_create(by=request.user, **form.cleaned_data)
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("Target saved."))
                return redirect("performance:target_plan", pk=target.pk)
    elif request.method == "POST":
        raise PermissionDenied
    return render(
        request,
        "performance/target_list.html",
        {
            "filterset": filterset,
            "page": page,
            "form": form,
            "hidden_filters": {"updated_after", "parent", "user", "team"},
        },
    )


@login_required
def target_plan(request, pk):
    """The planning grid of one target: people by periods, editable for who may set it."""
    parent = selectors.target_get(viewer=request.user, pk=pk)
    grid = selectors.planning_grid(viewer=request.user, parent=parent)
    editable_targets = [row["target"] for row in grid["rows"] if row["target"]] + [
        cell for row in grid["rows"] for cell in row["cells"] if cell is not None
    ]
    if parent.user_id:
        editable_targets = editable_targets[1:]  # a person's row is the parent itself
    grid_form = TargetGridForm(targets=editable_targets)
    decompose_form = DecomposeForm()
    confirm = None
    if request.method == "POST":
        if not grid["editable"]:
            raise PermissionDenied
        action = request.POST.get("action")
        try:
            if action == "save":
                grid_form = TargetGridForm(request.POST, targets=editable_targets)
                if grid_form.is_valid():
                    changed = services.target_set_values(by=request.user, values=grid_form.values())
                    messages.success(
                        request,
                        _("%(count)d targets changed.") % {"count": len(changed)},
                    )
                    return redirect("performance:target_plan", pk=parent.pk)
            elif action == "decompose":
                decompose_form = DecomposeForm(request.POST)
                if decompose_form.is_valid():
                    services.target_plan_decompose(
                        by=request.user,
                        target=parent,
                        mode=decompose_form.cleaned_data["mode"],
                        overwrite=decompose_form.cleaned_data["overwrite"],
                    )
                    messages.success(request, _("Target decomposed."))
                    return redirect("performance:target_plan", pk=parent.pk)
            elif action == "copy":
                copy_form = CopyLastYearForm(request.POST)
                copy_form.is_valid()
                services.target_copy_from_last_year(
                    by=request.user,
                    target=parent,
                    overwrite=copy_form.cleaned_data.get("overwrite", False),
                )
                messages.success(request, _("Last year's targets copied."))
                return redirect("performance:target_plan", pk=parent.pk)
        except ValidationError as error:
            if "overwrite" in getattr(error, "message_dict", {}):
                # Ask before replacing hand edits: the same action again, with overwrite.
                confirm = {
                    "action": action,
                    "mode": request.POST.get("mode", ""),
                    "message": error.message_dict["overwrite"][0],
                }
            else:
                _errors_to_messages(request, error)
    return render(
        request,
        "performance/target_plan.html",
        {
            "parent": parent,
            "grid": grid,
            "grid_form": grid_form,
            "decompose_form": decompose_form,
            "confirm": confirm,
            "ancestors": selectors.target_ancestors(viewer=request.user, target=parent),
            "children": selectors.target_list(viewer=request.user).filter(parent=parent),
        },
    )


@login_required
def my_targets(request):
    on = periods.today()
    return render(
        request,
        "performance/my_targets.html",
        {"on": on, "rows": selectors.my_targets(viewer=request.user, on=on)},
    )


@login_required
def leaderboard(request):
    form = LeaderboardForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    board = selectors.leaderboard(
        viewer=request.user,
        metric=data.get("metric") or Metric.REVENUE,
        period_type=data.get("period") or PeriodType.MONTH,
        on=data.get("on"),
    )
    return render(
        request,
        "performance/leaderboard.html",
        {"form": form, "board": board, "metric_label": Metric(board["metric"]).label},
    )


# Reviews, 360 feedback and improvement plans


def _form_errors(form, error: ValidationError) -> None:
    """Puts a service's validation error on the form, on its fields where they exist."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _error_messages(request, error) -> None:
    for message in getattr(error, "messages", None) or [str(error)]:
        messages.error(request, message)


@login_required
def cycle_list(request):
    cycles = selectors.review_cycle_list(viewer=request.user).order_by("-start", "-id")
    page = Paginator(cycles, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "performance/review_cycle_list.html",
        {"page": page, "can_create": services.can_manage_cycles(request.user)},
    )


@login_required
def cycle_create(request):
    if not services.can_manage_cycles(request.user):
        raise Http404
    form = ReviewCycleForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        kpis, criteria = form.template()
        data = form.cleaned_data
        try:
            cycle = services.cycle_create(
                by=request.user,
                name=data["name"],
                kind=data["kind"],
                start=data["start"],
                end=data["end"],
                team=data["team"],
                kpis=kpis,
                criteria=criteria,
            )
        except (ValidationError, PermissionDenied) as error:
            _form_errors(
                form, error if isinstance(error, ValidationError) else ValidationError(str(error))
            )
        else:
            messages.success(request, _("Review cycle created as a draft."))
            return redirect("performance:cycle_detail", pk=cycle.pk)
    return render(request, "performance/review_cycle_form.html", {"form": form})


@login_required
def cycle_detail(request, pk):
    cycle = selectors.review_cycle_get(viewer=request.user, pk=pk)
    reviews = selectors.review_list(viewer=request.user).filter(cycle=cycle)
    return render(
        request,
        "performance/review_cycle_detail.html",
        {
            "cycle": cycle,
            "reviews": reviews,
            "can_manage": services.can_manage_cycles(request.user)
            and cycle.team_id in {team.pk for team in review_cycle_teams(request.user)},
        },
    )


CYCLE_ACTIONS = {
    "open": (services.cycle_open, gettext_lazy("The cycle is open: reviews were created.")),
    "fill": (services.cycle_fill_kpis, gettext_lazy("KPI values were filled from the data.")),
    "close": (
        services.cycle_close,
        gettext_lazy("The cycle is closed; its KPI values are frozen."),
    ),
}


@login_required
@require_POST
def cycle_action(request, pk, action):
    cycle = selectors.review_cycle_get(viewer=request.user, pk=pk)
    if action not in CYCLE_ACTIONS:
        raise Http404
    run, done = CYCLE_ACTIONS[action]
    try:
        run(by=request.user, cycle=cycle)
    except (ValidationError, PermissionDenied) as error:
        _error_messages(request, error)
    else:
        messages.success(request, done)
    return redirect("performance:cycle_detail", pk=cycle.pk)


@login_required
def review_list(request, mine=False):
    filters = request.GET.copy()
    if mine:
        filters["reviewee"] = str(request.user.pk)
    filterset = ReviewFilterSet(
        filters or None,
        queryset=selectors.review_list(viewer=request.user),
        request=request,
    )
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "performance/review_list.html",
        {"filterset": filterset, "page": page, "mine": mine},
    )


def _review_context(request, review, **forms):
    user = request.user
    can_manage = services.can_manage_review(user, review)
    criteria = list(review.cycle.criteria.all())
    context = {
        "review": review,
        "breakdown": selectors.review_breakdown(review),
        "feedback": selectors.feedback_summary(review),
        "can_manage": can_manage,
        "is_reviewee": user.pk == review.reviewee_id,
        "can_score": can_manage and review.status == Review.Status.DRAFT,
        "plans": selectors.plan_list(viewer=user).filter(review=review),
    }
    if context["can_score"]:
        context["score_form"] = forms.get("score_form") or ReviewScoreForm(
            criteria=criteria,
            initial_scores=review.criteria_scores,
            initial={"strengths": review.strengths, "improvements": review.improvements},
        )
    if can_manage and review.cycle.status != ReviewCycle.Status.CLOSED:
        context["invite_form"] = forms.get("invite_form") or FeedbackInviteForm(
            user=user, review=review
        )
        context["customer_links"] = [
            (feedback, services.feedback_link(feedback))
            for feedback in review.feedback.filter(
                rater_kind=RaterKind.CUSTOMER, answered_at__isnull=True
            ).select_related("contact")
        ]
    if context["is_reviewee"] and review.status == Review.Status.SUBMITTED:
        context["acknowledge_form"] = forms.get("acknowledge_form") or AcknowledgeForm()
    return context


@login_required
def review_detail(request, pk):
    review = selectors.review_get(viewer=request.user, pk=pk)
    return render(request, "performance/review_detail.html", _review_context(request, review))


@login_required
@require_POST
def review_score(request, pk):
    review = selectors.review_get(viewer=request.user, pk=pk)
    if not services.can_manage_review(request.user, review):
        raise Http404
    submit = "submit" in request.POST
    form = ReviewScoreForm(
        request.POST, criteria=list(review.cycle.criteria.all()), require_all=submit
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            if submit:
                services.review_submit(
                    by=request.user,
                    review=review,
                    criteria_scores=form.scores(),
                    strengths=data["strengths"],
                    improvements=data["improvements"],
                )
                messages.success(request, _("Review submitted."))
            else:
                services.review_save(
                    by=request.user,
                    review=review,
                    criteria_scores=form.scores(),
                    strengths=data["strengths"],
                    improvements=data["improvements"],
                )
                messages.success(request, _("Draft saved."))
            return redirect("performance:review_detail", pk=review.pk)
        except ValidationError as error:
            _form_errors(form, error)
    review = selectors.review_get(viewer=request.user, pk=pk)
    context = _review_context(request, review, score_form=form)
    return render(request, "performance/review_detail.html", context, status=400)


@login_required
@require_POST
def review_acknowledge(request, pk):
    review = selectors.review_get(viewer=request.user, pk=pk)
    form = AcknowledgeForm(request.POST)
    if form.is_valid():
        try:
            services.review_acknowledge(
                by=request.user, review=review, comment=form.cleaned_data["comment"]
            )
        except (ValidationError, PermissionDenied) as error:
            _error_messages(request, error)
        else:
            messages.success(request, _("You acknowledged your review."))
    return redirect("performance:review_detail", pk=review.pk)


@login_required
@require_POST
def feedback_invite(request, pk):
    review = selectors.review_get(viewer=request.user, pk=pk)
    if not services.can_manage_review(request.user, review):
        raise Http404
    form = FeedbackInviteForm(request.POST, user=request.user, review=review)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.feedback_invite(
                by=request.user,
                review=review,
                rater_kind=data["rater_kind"],
                rater=data["rater"],
                contact=data["contact"],
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("Feedback requested."))
            return redirect("performance:review_detail", pk=review.pk)
    context = _review_context(request, review, invite_form=form)
    return render(request, "performance/review_detail.html", context, status=400)


@login_required
def feedback_requests(request):
    rows = selectors.feedback_requests(viewer=request.user)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "performance/review_feedback_requests.html", {"page": page})


@login_required
def feedback_answer(request, pk):
    feedback = get_object_or_404(selectors.feedback_requests(viewer=request.user), pk=pk)
    criteria = list(feedback.review.cycle.criteria.all())
    form = FeedbackAnswerForm(request.POST or None, criteria=criteria)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.feedback_answer(
                    by=request.user,
                    feedback=feedback,
                    answers=form.scores(),
                    comment=form.cleaned_data["comment"],
                )
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(request, _("Thank you for your feedback."))
                return redirect("performance:feedback_requests")
        status = 400
    return render(
        request,
        "performance/review_feedback_answer.html",
        {"feedback": feedback, "form": form, "criteria": criteria},
        status=status,
    )


def customer_feedback(request, token):
    """The page a customer contact opens from their signed link, without signing in."""
    feedback, expired = selectors.feedback_from_token(token)
    criteria = list(feedback.review.cycle.criteria.all())
    form = FeedbackAnswerForm(request.POST or None, criteria=criteria)
    context = {"feedback": feedback, "form": form, "expired": expired, "done": False}
    if expired or feedback.answered_at is not None:
        context["done"] = feedback.answered_at is not None
        return render(request, "performance/review_customer_feedback.html", context, status=410)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.feedback_answer(
                    by=None,
                    feedback=feedback,
                    answers=form.scores(),
                    comment=form.cleaned_data["comment"],
                )
            except ValidationError as error:
                _form_errors(form, error)
            else:
                context["done"] = True
                return render(request, "performance/review_customer_feedback.html", context)
        status = 400
    return render(request, "performance/review_customer_feedback.html", context, status=status)


@login_required
def plan_list(request):
    plans = selectors.plan_list(viewer=request.user).order_by("-start", "-id")
    page = Paginator(plans, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "performance/plan_list.html", {"page": page})


@login_required
def plan_create(request):
    review = None
    if request.GET.get("review") or request.POST.get("review"):
        review = selectors.review_get(
            viewer=request.user, pk=request.GET.get("review") or request.POST.get("review")
        )
    form = ImprovementPlanForm(request.POST or None, user=request.user, review=review)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            plan = services.plan_create(
                by=request.user,
                review=review,
                person=data.get("person"),
                goals=data["goals"],
                start=data["start"],
                end=data["end"],
                status=data["status"],
            )
        except (ValidationError, PermissionDenied) as error:
            _form_errors(
                form, error if isinstance(error, ValidationError) else ValidationError(str(error))
            )
        else:
            messages.success(request, _("Improvement plan created."))
            return redirect("performance:plan_detail", pk=plan.pk)
    return render(request, "performance/plan_form.html", {"form": form, "review": review})


# Apps above performance add panels to the improvement plan page (training: the courses
# recommended for the person's gaps). Each callable gets the request and the visible plan
# and returns the panel's context with its "template", or None.
PlanPanel = Callable[[HttpRequest, ImprovementPlan], dict | None]
_plan_panels: list[PlanPanel] = []


def register_plan_panel(func: PlanPanel) -> PlanPanel:
    if func not in _plan_panels:
        _plan_panels.append(func)
    return func


def _plan_context(request, plan, **forms):
    can_manage = services.can_manage_plan(request.user, plan)
    is_person = request.user.pk == plan.person_id
    context = {
        "plan": plan,
        "can_manage": can_manage,
        "can_check_in": can_manage or is_person,
        "today": periods.today(),
        "panels": [panel for panel in (func(request, plan) for func in _plan_panels) if panel],
    }
    if can_manage:
        context["action_form"] = forms.get("action_form") or ImprovementActionForm(
            user=request.user, plan=plan
        )
        context["status_form"] = PlanStatusForm(initial={"status": plan.status})
    if context["can_check_in"]:
        context["check_in_form"] = forms.get("check_in_form") or CheckInForm(
            initial={"date": periods.today()}
        )
    return context


@login_required
def plan_detail(request, pk):
    plan = selectors.plan_get(viewer=request.user, pk=pk)
    return render(request, "performance/plan_detail.html", _plan_context(request, plan))


@login_required
@require_POST
def plan_add_action(request, pk):
    plan = selectors.plan_get(viewer=request.user, pk=pk)
    if not services.can_manage_plan(request.user, plan):
        raise Http404
    form = ImprovementActionForm(request.POST, user=request.user, plan=plan)
    if form.is_valid():
        try:
            services.plan_add_action(by=request.user, plan=plan, **form.cleaned_data)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("Action added."))
            return redirect("performance:plan_detail", pk=plan.pk)
    context = _plan_context(request, plan, action_form=form)
    return render(request, "performance/plan_detail.html", context, status=400)


@login_required
@require_POST
def plan_check_in(request, pk):
    plan = selectors.plan_get(viewer=request.user, pk=pk)
    form = CheckInForm(request.POST)
    if form.is_valid():
        try:
            services.plan_check_in(by=request.user, plan=plan, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as error:
            _error_messages(request, error)
        else:
            messages.success(request, _("Check-in added."))
            return redirect("performance:plan_detail", pk=plan.pk)
    context = _plan_context(request, plan, check_in_form=form)
    return render(request, "performance/plan_detail.html", context, status=400)


@login_required
@require_POST
def plan_status(request, pk):
    plan = selectors.plan_get(viewer=request.user, pk=pk)
    form = PlanStatusForm(request.POST)
    if form.is_valid():
        try:
            services.plan_update(by=request.user, plan=plan, status=form.cleaned_data["status"])
        except (ValidationError, PermissionDenied) as error:
            _error_messages(request, error)
    return redirect("performance:plan_detail", pk=plan.pk)


@login_required
@require_POST
def plan_action_done(request, pk, action_pk):
    plan = selectors.plan_get(viewer=request.user, pk=pk)
    action = get_object_or_404(plan.actions.all(), pk=action_pk)
    try:
        services.action_set_done(by=request.user, action=action, done=not action.done)
    except PermissionDenied as error:
        _error_messages(request, error)
    return redirect("performance:plan_detail", pk=plan.pk)


# Expenses


@login_required
def expense_list(request):
    filterset = ExpenseFilterSet(
        request.GET or None,
        queryset=selectors.expense_list(viewer=request.user),
        request=request,
    )
    form = ExpenseForm(request.POST or None, request.FILES or None, user=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.expense_submit(by=request.user, **form.cleaned_data)
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(request, _("Expense submitted."))
                return redirect("performance:expense_list")
        status = 400
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    start, end = periods.period_bounds(PeriodType.MONTH, periods.today())
    return render(
        request,
        "performance/expense_list.html",
        {
            "filterset": filterset,
            "page": page,
            "form": form,
            "to_decide": selectors.expenses_to_decide(viewer=request.user)[:PAGE_SIZE],
            "reject_form": ExpenseRejectForm(),
            "totals": selectors.expense_totals(viewer=request.user, start=start, end=end),
        },
        status=status,
    )


@login_required
@require_POST
def expense_decide(request, pk, decision):
    expense = selectors.expense_get(viewer=request.user, pk=pk)
    try:
        if decision == "approve":
            services.expense_approve(by=request.user, expense=expense)
            messages.success(request, _("Expense approved."))
        elif decision == "reject":
            form = ExpenseRejectForm(request.POST)
            reason = form.cleaned_data["reason"] if form.is_valid() else ""
            services.expense_reject(by=request.user, expense=expense, reason=reason)
            messages.success(request, _("Expense rejected."))
        else:
            raise Http404
    except (ValidationError, PermissionDenied) as error:
        _error_messages(request, error)
    return redirect("performance:expense_list")

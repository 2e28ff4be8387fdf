"""Browser pages of the training app: thin views over training.selectors and
training.services (DESIGN.md §3, §11.6)."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from performance import services as performance_services
from pipeline import selectors as pipeline_selectors
from teams.models import User
from teams.selectors import is_manager
from training import selectors, services
from training.filtersets import ArticleFilterSet, CourseFilterSet
from training.forms import (
    ArticleForm,
    AssignForm,
    CheckInForm,
    CompleteForm,
    DevelopmentActionForm,
    DevelopmentPlanForm,
    DevelopmentPlanStatusForm,
    MentorshipForm,
    PlanCourseForm,
    PromoteForm,
    QuickAssignForm,
)
from training.models import DevelopmentPlan, Mentorship

PAGE_SIZE = 50


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _form_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _error_messages(request, error) -> None:
    for text in getattr(error, "messages", None) or [str(error)]:
        messages.error(request, text)


def _back(request, default: str, *args):
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(default, *args)


# Courses and enrollments


@login_required
def course_list(request):
    filterset = CourseFilterSet(
        request.GET or None,
        queryset=selectors.course_list(viewer=request.user),
        request=request,
    )
    return render(
        request,
        "training/course_list.html",
        {"filterset": filterset, "page": _page(request, filterset.qs)},
    )


@login_required
def course_detail(request, pk):
    course = selectors.course_get(viewer=request.user, pk=pk)
    manages = is_manager(request.user)
    context = {
        "course": course,
        "my_enrollments": list(
            selectors.enrollment_list(viewer=request.user).filter(user=request.user, course=course)
        ),
        "assign_form": AssignForm(user=request.user, course=course) if manages else None,
        "criteria": list(course.criteria.all()),
    }
    return render(request, "training/course_detail.html", context)


@login_required
@require_POST
def course_enroll(request, pk):
    course = selectors.course_get(viewer=request.user, pk=pk)
    try:
        services.enrollment_self_enroll(by=request.user, course=course)
    except ValidationError as error:
        _error_messages(request, error)
    else:
        messages.success(request, _("You are enrolled."))
    return redirect("training:course_detail", pk=course.pk)


@login_required
def my_learning(request):
    user = request.user
    context = {
        **selectors.my_learning(user=user),
        "readiness": selectors.readiness_of(user),
        "history": list(selectors.level_history(viewer=user, user=user)),
        "complete_form": CompleteForm(),
        "today": timezone.localdate(),
    }
    return render(request, "training/my_learning.html", context)


@login_required
@require_POST
def enrollment_start(request, pk):
    enrollment = selectors.enrollment_get(viewer=request.user, pk=pk)
    try:
        services.enrollment_start(by=request.user, enrollment=enrollment)
    except (ValidationError, PermissionDenied) as error:
        _error_messages(request, error)
    return _back(request, "training:my_learning")


@login_required
@require_POST
def enrollment_complete(request, pk):
    enrollment = selectors.enrollment_get(viewer=request.user, pk=pk)
    form = CompleteForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for text in errors:
                messages.error(request, text)
        return _back(request, "training:my_learning")
    try:
        result = services.enrollment_complete(
            by=request.user, enrollment=enrollment, score=form.cleaned_data["score"]
        )
    except (ValidationError, PermissionDenied) as error:
        _error_messages(request, error)
    else:
        if result.status == result.Status.COMPLETED:
            messages.success(request, _("Course completed."))
        else:
            messages.warning(
                request,
                _("The score is below the pass score of %(pass)d: the course stays open.")
                % {"pass": result.course.pass_score},
            )
    return _back(request, "training:my_learning")


def _month(value: str) -> dt.date:
    try:
        return dt.datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        return timezone.localdate().replace(day=1)


@login_required
def calendar(request):
    manages = is_manager(request.user)
    mine = not manages or request.GET.get("scope") != "team"
    month = _month(request.GET.get("month", ""))
    context = {
        "calendar": selectors.calendar(viewer=request.user, month=month, mine=mine),
        "mine": mine,
        "manages": manages,
        "today": timezone.localdate(),
        "weekdays": [WEEKDAYS_ABBR[index] for index in range(7)],
    }
    return render(request, "training/calendar.html", context)


def _require_manager(user: User) -> None:
    if not is_manager(user):
        raise Http404


@login_required
def team(request):
    """Completion across the manager's subtree, and one course for several people."""
    _require_manager(request.user)
    team_id = request.GET.get("team", "")
    chosen = None
    if team_id:
        if not team_id.isdigit():
            raise Http404
        chosen = get_object_or_404(pipeline_selectors.scope_teams(viewer=request.user), pk=team_id)
    form = AssignForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.enrollment_assign(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(
                request,
                _("%(created)d people enrolled, %(skipped)d already enrolled.")
                % {"created": len(result["created"]), "skipped": len(result["skipped"])},
            )
            return redirect("training:team")
    rows = selectors.team_completion(viewer=request.user, team=chosen)
    context = {
        "page": _page(request, rows),
        "form": form,
        "teams": pipeline_selectors.scope_teams(viewer=request.user),
        "chosen": chosen,
    }
    return render(request, "training/team.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def course_assign(request, pk):
    course = selectors.course_get(viewer=request.user, pk=pk)
    _require_manager(request.user)
    form = AssignForm(request.POST, user=request.user, course=course)
    if form.is_valid():
        try:
            result = services.enrollment_assign(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(
                request,
                _("%(created)d people enrolled, %(skipped)d already enrolled.")
                % {"created": len(result["created"]), "skipped": len(result["skipped"])},
            )
            return redirect("training:course_detail", pk=course.pk)
    context = {
        "course": course,
        "my_enrollments": [],
        "assign_form": form,
        "criteria": list(course.criteria.all()),
    }
    return render(request, "training/course_detail.html", context, status=400)


@login_required
def recommendations(request):
    """A person's recommended courses with the reasons; their manager assigns one in a click
    or adds it to an improvement plan."""
    user_id = request.GET.get("user") or str(request.user.pk)
    if not user_id.isdigit():
        raise Http404
    person = get_object_or_404(User.objects.visible_to(request.user), pk=user_id)
    can_assign = services.can_manage(request.user, person)
    context = {
        "person": person,
        "rows": selectors.recommendations(user=person),
        "can_assign": can_assign,
        "plan_form": (PlanCourseForm(viewer=request.user, person=person) if can_assign else None),
    }
    return render(request, "training/recommendations.html", context)


@login_required
@require_POST
def quick_assign(request):
    form = QuickAssignForm(request.POST, user=request.user)
    if not form.is_valid():
        raise Http404
    try:
        services.enrollment_assign(
            by=request.user, course=form.cleaned_data["course"], users=[form.cleaned_data["user"]]
        )
    except ValidationError as error:
        _error_messages(request, error)
    else:
        messages.success(request, _("Course assigned."))
    return _back(request, "training:team")


@login_required
@require_POST
def plan_course(request, user_pk):
    person = get_object_or_404(User.objects.visible_to(request.user), pk=user_pk)
    form = PlanCourseForm(request.POST, viewer=request.user, person=person)
    if form.is_valid():
        try:
            services.plan_link_course(by=request.user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as error:
            _error_messages(request, error)
        else:
            messages.success(request, _("Course added to the improvement plan."))
    else:
        for errors in form.errors.values():
            for text in errors:
                messages.error(request, text)
    return _back(request, f"{reverse('training:recommendations')}?user={person.pk}")


# A course added to an improvement plan from its page is due in four weeks by default.
PLAN_COURSE_DAYS = 28


def plan_recommendations_panel(request, plan) -> dict | None:
    """On an improvement plan's page: the courses recommended for the person's gaps, which
    the plan's manager adds to the plan in one click."""
    if plan.status not in (plan.Status.DRAFT, plan.Status.ACTIVE):
        return None
    return {
        "template": "training/partials/_plan_recommendations_panel.html",
        "plan": plan,
        "rows": selectors.recommendations(user=plan.person),
        "can_add": performance_services.can_manage_plan(request.user, plan),
        "due": timezone.localdate() + dt.timedelta(days=PLAN_COURSE_DAYS),
    }


# Promotion readiness


@login_required
def readiness(request):
    _require_manager(request.user)
    ready_only = request.GET.get("ready") == "1"
    rows = selectors.promotion_readiness(viewer=request.user, ready_only=ready_only)
    for row in rows:
        # Everyone listed is someone the manager sees; nobody promotes themselves.
        row["can_promote"] = request.user.is_admin or row["user"].pk != request.user.pk
    context = {"rows": rows, "ready_only": ready_only, "form": PromoteForm()}
    return render(request, "training/readiness.html", context)


@login_required
@require_POST
def promote(request, user_pk):
    person = get_object_or_404(User.objects.visible_to(request.user), pk=user_pk)
    form = PromoteForm(request.POST)
    if form.is_valid():
        try:
            change = services.promote(by=request.user, user=person, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as error:
            _error_messages(request, error)
        else:
            messages.success(
                request,
                _("%(person)s is now %(level)s.")
                % {"person": person, "level": change.to_level.display_name},
            )
    return redirect("training:readiness")


# Knowledge base


@login_required
def article_list(request):
    filterset = ArticleFilterSet(
        request.GET or None,
        queryset=selectors.article_list(viewer=request.user),
        request=request,
    )
    return render(
        request,
        "training/article_list.html",
        {"filterset": filterset, "page": _page(request, filterset.qs)},
    )


@login_required
def article_detail(request, pk):
    article = selectors.article_get(viewer=request.user, pk=pk)
    context = {
        "article": article,
        "can_edit": services.can_edit_article(request.user, article),
        "show_deal": selectors.deal_visible(request.user, article.deal_id),
    }
    return render(request, "training/article_detail.html", context)


def _article_form_page(request, form, article=None, status=200):
    return render(
        request, "training/article_form.html", {"form": form, "article": article}, status=status
    )


@login_required
def article_create(request):
    form = ArticleForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if form.is_valid():
            try:
                article = services.article_create(by=request.user, **form.cleaned_data)
            except ValidationError as error:
                _form_errors(form, error)
            else:
                return redirect("training:article_detail", pk=article.pk)
        return _article_form_page(request, form, status=400)
    return _article_form_page(request, form)


@login_required
def article_edit(request, pk):
    article = selectors.article_get(viewer=request.user, pk=pk)
    if not services.can_edit_article(request.user, article):
        raise Http404
    form = ArticleForm(request.POST or None, instance=article, user=request.user)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.article_update(
                    by=request.user,
                    article=selectors.article_get(viewer=request.user, pk=pk),
                    **{name: form.cleaned_data[name] for name in form.Meta.fields},
                )
            except (ValidationError, PermissionDenied) as error:
                _form_errors(form, error)
            else:
                messages.success(request, _("Article saved."))
                return redirect("training:article_detail", pk=article.pk)
        return _article_form_page(request, form, article, status=400)
    return _article_form_page(request, form, article)


@login_required
@require_POST
def article_delete(request, pk):
    article = selectors.article_get(viewer=request.user, pk=pk)
    try:
        services.article_delete(by=request.user, article=article)
    except PermissionDenied as error:
        raise Http404 from error
    messages.success(request, _("Article deleted."))
    return redirect("training:article_list")


@login_required
@require_POST
def share_deal(request, deal_pk):
    deal = pipeline_selectors.deal_get(viewer=request.user, pk=deal_pk)
    try:
        article = services.article_from_deal(by=request.user, deal=deal)
    except ValidationError as error:
        _error_messages(request, error)
        return redirect("pipeline:deal_detail", pk=deal.pk)
    messages.success(request, _("A draft case was made from the deal: complete it and publish."))
    return redirect("training:article_edit", pk=article.pk)


def deal_case_panel(request, deal) -> dict | None:
    """On the page of a won or lost deal: share it in the knowledge base as a case."""
    if deal.status == deal.Status.OPEN:
        return None
    return {"template": "training/partials/_deal_case_panel.html", "deal": deal}


# Mentoring


@login_required
def mentorship_list(request):
    manages = is_manager(request.user)
    form = MentorshipForm(request.POST or None, user=request.user) if manages else None
    if request.method == "POST":
        if form is None:
            raise Http404
        if form.is_valid():
            try:
                mentorship = services.mentorship_create(
                    by=request.user,
                    **{name: form.cleaned_data[name] for name in form.Meta.fields},
                )
            except ValidationError as error:
                _form_errors(form, error)
            else:
                return redirect("training:mentorship_detail", pk=mentorship.pk)
    rows = selectors.mentorship_list(viewer=request.user).order_by("-start", "-id")
    return render(
        request,
        "training/mentorship_list.html",
        {"page": _page(request, rows), "form": form},
        status=400 if form is not None and form.errors else 200,
    )


@login_required
def mentorship_detail(request, pk):
    mentorship = selectors.mentorship_get(viewer=request.user, pk=pk)
    form = CheckInForm(request.POST or None, initial={"date": timezone.localdate()})
    if request.method == "POST":
        if request.POST.get("action") == "end":
            try:
                services.mentorship_end(by=request.user, mentorship=mentorship)
            except (ValidationError, PermissionDenied) as error:
                _error_messages(request, error)
            return redirect("training:mentorship_detail", pk=pk)
        if form.is_valid():
            try:
                services.mentorship_check_in(
                    by=request.user, mentorship=mentorship, **form.cleaned_data
                )
            except (ValidationError, PermissionDenied) as error:
                _form_errors(form, error)
            else:
                messages.success(request, _("Check-in added."))
                return redirect("training:mentorship_detail", pk=pk)
    context = {
        "mentorship": mentorship,
        "form": form,
        "active": mentorship.status == Mentorship.Status.ACTIVE,
    }
    return render(
        request, "training/mentorship_detail.html", context, status=400 if form.errors else 200
    )


# Development plans


@login_required
def plan_list(request):
    form = DevelopmentPlanForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.development_plan_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            return redirect("training:plan_detail", pk=plan.pk)
    rows = selectors.development_plan_list(viewer=request.user).order_by("-created_at", "-id")
    return render(
        request,
        "training/plan_list.html",
        {"page": _page(request, rows), "form": form},
        status=400 if form.errors else 200,
    )


def _plan_page(request, plan: DevelopmentPlan, action_form=None, status=200):
    context = {
        "plan": plan,
        "action_form": action_form or DevelopmentActionForm(plan=plan),
        "status_form": DevelopmentPlanStatusForm(initial={"status": plan.status}),
        "can_review": services.can_manage(request.user, plan.user),
    }
    return render(request, "training/plan_detail.html", context, status=status)


@login_required
def plan_detail(request, pk):
    plan = selectors.development_plan_get(viewer=request.user, pk=pk)
    if request.method != "POST":
        return _plan_page(request, plan)
    action = request.POST.get("action")
    try:
        if action == "add":
            form = DevelopmentActionForm(request.POST, plan=plan)
            if not form.is_valid():
                return _plan_page(request, plan, action_form=form, status=400)
            try:
                services.development_action_add(by=request.user, plan=plan, **form.cleaned_data)
            except ValidationError as error:
                _form_errors(form, error)
                return _plan_page(request, plan, action_form=form, status=400)
            messages.success(request, _("Action added."))
        elif action == "done":
            step_id = request.POST.get("step", "")
            if not step_id.isdigit():
                raise Http404
            step = get_object_or_404(plan.actions.all(), pk=step_id)
            services.development_action_set_done(by=request.user, action=step, done=not step.done)
        elif action == "status":
            form = DevelopmentPlanStatusForm(request.POST)
            if form.is_valid():
                services.development_plan_update(
                    by=request.user, plan=plan, status=form.cleaned_data["status"]
                )
        elif action == "review":
            services.development_plan_review(by=request.user, plan=plan)
            messages.success(request, _("Plan reviewed."))
        else:
            raise Http404
    except (ValidationError, PermissionDenied) as error:
        _error_messages(request, error)
    return redirect("training:plan_detail", pk=plan.pk)

"""Browser pages of the incentives app: my statements, a statement (printable, XLSX), the
team's statements to approve, disputes and their resolution, the payroll export. Thin views
over incentives.selectors and incentives.services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from incentives import exports, selectors, services
from incentives.filtersets import StatementFilterSet
from incentives.forms import (
    AwardForm,
    ContestForm,
    DisputeForm,
    DisputeResolveForm,
    KudosForm,
    PayrollForm,
)
from incentives.models import Dispute, Statement
from teams.selectors import is_manager

PAGE_SIZE = 50


def _form_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def statement_url(statement) -> str:
    return reverse("incentives:statement_detail", args=[statement.pk])


def _error_messages(request, error: ValidationError) -> None:
    for text in error.messages:
        messages.error(request, text)


@login_required
def my_statements(request):
    statements = selectors.my_statements(viewer=request.user)
    page = Paginator(statements, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "incentives/my_statements.html",
        {"page": page, "is_manager": is_manager(request.user)},
    )


@login_required
def team_statements(request):
    """The statements of the viewer's subtree, drafts to approve first."""
    if not is_manager(request.user):
        raise PermissionDenied
    base = selectors.statement_list(viewer=request.user).exclude(user_id=request.user.pk)
    data = request.GET.copy()
    if "status" not in data and not data.get("page"):
        data.setlist("status", [Statement.Status.DRAFT])
    filterset = StatementFilterSet(data, queryset=base, request=request)
    rows = filterset.qs.order_by("start", "user__username", "pk")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    template = (
        "incentives/partials/_statement_table.html"
        if request.htmx
        else "incentives/team_statements.html"
    )
    return render(request, template, {"page": page, "filterset": filterset, "team": True})


@login_required
def statement_detail(request, pk):
    statement = selectors.statement_get(viewer=request.user, pk=pk)
    return render(
        request,
        "incentives/statement_detail.html",
        {
            "statement": statement,
            "lines": list(statement.lines.all()),
            "is_mine": statement.user_id == request.user.pk,
            "can_approve": selectors.can_approve(request.user, statement),
            "can_recompute": not statement.is_frozen
            and (statement.user_id == request.user.pk or is_manager(request.user)),
        },
    )


@login_required
def statement_export(request, pk):
    statement = selectors.statement_get(viewer=request.user, pk=pk)
    response = HttpResponse(exports.statement_xlsx(statement), content_type=exports.XLSX)
    response["Content-Disposition"] = (
        f'attachment; filename="{exports.statement_filename(statement)}"'
    )
    return response


@login_required
@require_POST
def statement_approve(request, pk):
    statement = selectors.statement_get(viewer=request.user, pk=pk)
    try:
        services.statement_approve(by=request.user, statement=statement)
        messages.success(request, _("Statement approved."))
    except ValidationError as error:
        _error_messages(request, error)
    if request.POST.get("next") == "team":
        return redirect("incentives:team_statements")
    return redirect(statement_url(statement))


@login_required
@require_POST
def statement_mark_paid(request, pk):
    statement = selectors.statement_get(viewer=request.user, pk=pk)
    try:
        services.statement_mark_paid(by=request.user, statement=statement)
        messages.success(request, _("Statement marked paid."))
    except ValidationError as error:
        _error_messages(request, error)
    return redirect(statement_url(statement))


@login_required
@require_POST
def statement_recompute(request, pk):
    statement = selectors.statement_get(viewer=request.user, pk=pk)
    if statement.user_id != request.user.pk and not is_manager(request.user):
        raise PermissionDenied
    if statement.is_frozen:
        messages.error(request, _("An approved statement is never recomputed."))
    else:
        services.statement_compute(user=statement.user, period=(statement.start, statement.end))
        messages.success(request, _("Statement recomputed."))
    return redirect(statement_url(statement))


@login_required
def dispute_raise(request, line_pk):
    line = selectors.statement_line_get(viewer=request.user, pk=line_pk)
    if line.statement.user_id != request.user.pk:
        raise PermissionDenied
    form = DisputeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.dispute_raise(by=request.user, line=line, comment=form.cleaned_data["comment"])
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("Your dispute was sent to your manager."))
            return redirect(statement_url(line.statement))
    return render(request, "incentives/dispute_form.html", {"line": line, "form": form})


@login_required
def dispute_list(request):
    disputes = selectors.dispute_list(viewer=request.user).order_by("-created_at", "-pk")
    page = Paginator(disputes, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "incentives/dispute_list.html",
        {"page": page, "to_resolve": selectors.disputes_to_resolve(viewer=request.user).count()},
    )


@login_required
def dispute_resolve(request, pk):
    dispute = selectors.dispute_get(viewer=request.user, pk=pk)
    may_resolve = (
        dispute.status == Dispute.Status.OPEN
        and dispute.line.statement.user_id != request.user.pk
        and is_manager(request.user)
    )
    form = DisputeResolveForm(request.POST or None)
    if request.method == "POST":
        if not may_resolve:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.dispute_resolve(
                    by=request.user,
                    dispute=dispute,
                    accept=data["decision"] == "accept",
                    resolution=data["resolution"],
                    adjustment=data.get("adjustment"),
                )
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(request, _("Dispute resolved."))
                return redirect("incentives:dispute_list")
    return render(
        request,
        "incentives/dispute_resolve.html",
        {"dispute": dispute, "form": form, "may_resolve": may_resolve},
    )


@login_required
def payroll(request):
    """All approved statements of a period, one row per person, for the payroll."""
    if not request.user.is_admin:
        raise PermissionDenied
    form = PayrollForm.for_request(request.GET)
    rows = []
    if form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        rows = selectors.payroll_rows(start=start, end=end)
        if request.GET.get("format") == "xlsx":
            response = HttpResponse(
                exports.payroll_xlsx(rows, start=start, end=end), content_type=exports.XLSX
            )
            response["Content-Disposition"] = (
                f'attachment; filename="{exports.payroll_filename(start, end)}"'
            )
            return response
    return render(request, "incentives/payroll.html", {"form": form, "rows": rows})


# Recognition


def _next_url(request) -> str | None:
    """Where a form sent from another page (a person's page) returns to, when it is ours."""
    next_url = request.POST.get("next")
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return None


def person_recognition_panel(request, person) -> dict:
    """On a person's page: their awards and the latest kudos they received, and a form to
    praise them for anyone else."""
    can_praise = person.pk != request.user.pk and person.is_active
    return {
        "template": "incentives/partials/_person_recognition_panel.html",
        **selectors.person_recognition(viewer=request.user, person=person),
        "kudos_form": KudosForm(viewer=request.user) if can_praise else None,
    }


@login_required
def recognition(request):
    """The recognition wall: latest awards and the team's kudos, with forms to praise a
    colleague and, for managers, to grant an award."""
    manager = is_manager(request.user)
    kudos_form = KudosForm(viewer=request.user)
    award_form = AwardForm(viewer=request.user) if manager else None
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "kudos":
                kudos_form = KudosForm(request.POST, viewer=request.user)
                if kudos_form.is_valid():
                    services.kudos_give(by=request.user, **kudos_form.cleaned_data)
                    messages.success(request, _("Kudos sent."))
                    return redirect(_next_url(request) or "incentives:recognition")
            elif action == "award" and manager:
                award_form = AwardForm(request.POST, viewer=request.user)
                if award_form.is_valid():
                    services.award_grant(by=request.user, **award_form.cleaned_data)
                    messages.success(request, _("Award granted."))
                    return redirect("incentives:recognition")
            else:
                raise PermissionDenied
        except ValidationError as error:
            _form_errors(award_form if action == "award" else kudos_form, error)
    return render(
        request,
        "incentives/recognition.html",
        {
            **selectors.recognition_wall(viewer=request.user),
            "kudos_form": kudos_form,
            "award_form": award_form,
        },
    )


@login_required
def contest_list(request):
    contests = selectors.contest_list(viewer=request.user).order_by("-start", "name")
    page = Paginator(contests, PAGE_SIZE).get_page(request.GET.get("page"))
    form = None
    if is_manager(request.user):
        form = ContestForm(request.POST or None, viewer=request.user)
        if request.method == "POST" and form.is_valid():
            data = dict(form.cleaned_data)
            participants = list(data.pop("participants"))
            try:
                contest = services.contest_create(
                    by=request.user, participants=participants, **data
                )
            except ValidationError as error:
                _form_errors(form, error)
            else:
                return redirect("incentives:contest_detail", pk=contest.pk)
    elif request.method == "POST":
        raise PermissionDenied
    return render(request, "incentives/contest_list.html", {"page": page, "form": form})


@login_required
def contest_detail(request, pk):
    contest = selectors.contest_get(viewer=request.user, pk=pk)
    return render(
        request,
        "incentives/contest_detail.html",
        {"contest": contest, "ranking": selectors.contest_ranking(contest)},
    )


def deal_estimate_panel(request, deal) -> dict | None:
    """On an open deal's page: what it would pay its owner if won this period, given their
    plan and what they have won so far."""
    if deal.status != deal.Status.OPEN or deal.amount is None:
        return None
    estimate = selectors.commission_estimate(deal=deal, user=deal.owner)
    return {"template": "incentives/partials/_deal_estimate_panel.html", "estimate": estimate}

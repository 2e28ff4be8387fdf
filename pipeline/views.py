"""Browser pages of the pipeline: the kanban board, the deal list and its export, the deal
page and its forms. Thin views over pipeline.selectors and pipeline.services (DESIGN.md
§3, §11.6); with htmx the board and the list swap in place."""

from collections.abc import Callable
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from customers import selectors as customer_selectors
from pipeline import exports, selectors, services
from pipeline.filtersets import DealFilterSet
from pipeline.forms import DealCreateForm, DealForm, DealMoveForm
from pipeline.models import Deal, Pipeline

# Apps above the pipeline add panels to the deal page (incentives: what the deal would pay;
# training: sharing a closed deal as a case). Each callable gets the request and the
# visible deal and returns the panel's context with its "template", or None.
DealPanel = Callable[[HttpRequest, Deal], dict | None]
_deal_panels: list[DealPanel] = []


def register_deal_panel(func: DealPanel) -> DealPanel:
    if func not in _deal_panels:
        _deal_panels.append(func)
    return func


PAGE_SIZE = 50
BOARD_CARDS = selectors.BOARD_CARDS_PER_COLUMN
ACTIVITY_ROWS = 20

# Sort keys the deal list offers, each backed by an index (DESIGN.md §10).
DEAL_SORTS = {
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
    "amount": ("amount", "pk"),
    "-amount": ("-amount", "-pk"),
    "expected_close": ("expected_close", "pk"),
    "-expected_close": ("-expected_close", "-pk"),
    "-updated": ("-updated_at", "-pk"),
    "updated": ("updated_at", "pk"),
}
DEFAULT_SORT = "-updated"


def _form_errors(form, error: ValidationError) -> None:
    """Puts a service's validation error on the form, on its fields where they exist."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _deal_filterset(request, data, queryset) -> DealFilterSet:
    filterset = DealFilterSet(data or None, queryset=queryset, request=request)
    for name in ("expected_close_after", "expected_close_before"):
        filterset.form.fields[name].widget.input_type = "date"
    return filterset


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


# Board


def _pipeline(request, pipeline_id) -> Pipeline:
    pipeline_id = pipeline_id or request.GET.get("pipeline")
    if pipeline_id in (None, ""):
        return selectors.default_pipeline()
    if not str(pipeline_id).isdigit():
        raise Http404
    return get_object_or_404(Pipeline, pk=pipeline_id)


def _board_context(request, pipeline: Pipeline, query: QueryDict, board_url: str, **extra):
    filterset = _deal_filterset(request, query, Deal.objects.none())
    stages = selectors.stages_of(pipeline)
    columns = selectors.board(
        viewer=request.user,
        pipeline=pipeline,
        filters=query,
        request=request,
        stages=stages,
        cards_per_column=BOARD_CARDS,
    )
    more_query = query.copy()
    for name in ("stage", "status", "pipeline", "page"):
        more_query.pop(name, None)
    return {
        "pipeline": pipeline,
        "pipelines": Pipeline.objects.filter(active=True),
        "filterset": filterset,
        "columns": columns,
        "stages": stages,
        "closed_stages": [stage for stage in stages if stage.is_closed],
        "more_query": more_query.urlencode(),
        "board_url": board_url,
        "now": timezone.now(),
        **extra,
    }


@login_required
def board(request, pipeline_id=None):
    pipeline = _pipeline(request, pipeline_id)
    query = request.GET.copy()
    query.pop("pipeline", None)
    context = _board_context(request, pipeline, query, request.get_full_path())
    template = "pipeline/partials/_board.html" if request.htmx else "pipeline/board.html"
    return render(request, template, context)


# Moving, reopening, deleting


def _board_after_move(request, deal: Deal, next_url: str, **extra):
    """The board the move came from, fresh, for htmx to swap in."""
    query = QueryDict(urlsplit(next_url).query, mutable=True)
    query.pop("pipeline", None)
    context = _board_context(request, deal.pipeline, query, next_url, **extra)
    return render(request, "pipeline/partials/_board.html", context)


def _move_form_response(request, deal: Deal, form: DealMoveForm, next_url: str):
    context = {"deal": deal, "form": form, "next": next_url}
    if request.htmx:
        response = render(request, "pipeline/partials/_move_form.html", context)
        response["HX-Retarget"] = "#move-dialog"
        response["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "pipeline/deal_move.html", context, status=400)


@login_required
@require_POST
def deal_move(request, pk):
    """Moves a deal (from the board's drag and drop or "Move to" menu, or the deal page).
    What the target stage still needs comes back as a small form asking exactly for it."""
    deal = selectors.deal_get(viewer=request.user, pk=pk)
    next_url = _safe_next(request, reverse("pipeline:deal_detail", args=[deal.pk]))
    form = DealMoveForm(request.POST, deal=deal)
    if not form.is_valid():
        return _move_form_response(request, deal, form, next_url)
    try:
        moved = services.deal_move(by=request.user, deal=deal, **form.move_arguments())
    except services.StaleVersionError as error:
        text = _("%(name)s was changed by someone else meanwhile; here it is as it is now.") % {
            "name": deal.name
        }
        if request.htmx:
            return _board_after_move(
                request,
                deal,
                next_url,
                board_message=text,
                board_message_level="error",
                highlight=deal.pk,
                stale_version=error.current_version,
            )
        messages.error(request, text)
        return redirect(next_url)
    except ValidationError as error:
        form.show_missing(error, attempted="criteria" in request.POST)
        return _move_form_response(request, deal, form, next_url)
    text = _("%(name)s moved to %(stage)s.") % {
        "name": moved.name,
        "stage": moved.stage.display_name,
    }
    if request.htmx:
        return _board_after_move(request, moved, next_url, board_message=text, highlight=moved.pk)
    messages.success(request, text)
    return redirect(next_url)


@login_required
@require_POST
def deal_reopen(request, pk):
    deal = selectors.deal_get(viewer=request.user, pk=pk)
    version = request.POST.get("version", "")
    try:
        services.deal_reopen(
            by=request.user,
            deal=deal,
            expected_version=int(version) if version.isdigit() else None,
        )
    except services.StaleVersionError as error:
        messages.error(request, str(error))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The deal is open again."))
    return redirect("pipeline:deal_detail", pk=deal.pk)


@login_required
def deal_delete(request, pk):
    deal = selectors.deal_get(viewer=request.user, pk=pk)
    if not services.can_edit_deal(request.user, deal):
        raise PermissionDenied(_("You cannot change this deal."))
    if request.method == "POST":
        services.deal_delete(by=request.user, deal=deal)
        messages.success(request, _("The deal %(name)s was deleted.") % {"name": deal.name})
        return redirect("pipeline:deal_list")
    return render(request, "pipeline/deal_delete.html", {"deal": deal})


# Deal list and export


@login_required
def deal_list(request):
    filterset = _deal_filterset(request, request.GET, selectors.deal_list(viewer=request.user))
    sort = request.GET.get("sort") if request.GET.get("sort") in DEAL_SORTS else DEFAULT_SORT
    page = Paginator(filterset.qs.order_by(*DEAL_SORTS[sort]), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    export_query = request.GET.copy()
    export_query.pop("page", None)
    context = {
        "filterset": filterset,
        "page": page,
        "sort": sort,
        "export_query": export_query.urlencode(),
        "now": timezone.now(),
    }
    template = "pipeline/partials/_deal_table.html" if request.htmx else "pipeline/deal_list.html"
    return render(request, template, context)


@login_required
def deal_export(request, file_format):
    """The deal list as filtered and sorted on the page (visible deals only)."""
    sort = request.GET.get("sort") if request.GET.get("sort") in DEAL_SORTS else DEFAULT_SORT
    deals = selectors.deal_list(viewer=request.user, filters=request.GET, request=request)
    deals = deals.order_by(*DEAL_SORTS[sort])
    if file_format == "csv":
        response = StreamingHttpResponse(
            exports.csv_lines(deals), content_type=exports.CONTENT_TYPES["csv"]
        )
    else:
        response = HttpResponse(exports.xlsx(deals), content_type=exports.CONTENT_TYPES["xlsx"])
    response["Content-Disposition"] = f'attachment; filename="{exports.filename(file_format)}"'
    return response


# Deal page and forms


def _stage_visits(history) -> list[dict]:
    """The history as stage visits: each stage entered, when, by whom, and the days spent
    there, recorded when the deal left it (the page counts the current visit up to now)."""
    changes = list(history)
    return [
        {
            "change": change,
            "days": following.days_in_previous_stage if following else None,
            "current": following is None,
        }
        for change, following in zip(changes, [*changes[1:], None], strict=True)
    ]


def _activity(request, deal: Deal) -> dict:
    """The account's interactions since the deal was opened and its open follow-ups."""
    interactions = customer_selectors.interaction_list(
        viewer=request.user,
        filters={"account": deal.account_id, "occurred_after": deal.created_at.isoformat()},
    ).order_by("-occurred_at", "-id")[:ACTIVITY_ROWS]
    followups = (
        customer_selectors.followup_list(
            viewer=request.user, filters={"account": deal.account_id, "status": ["open"]}
        )
        .select_related("assignee")
        .order_by("due_at", "pk")[:ACTIVITY_ROWS]
    )
    return {"interactions": interactions, "followups": followups}


@login_required
def deal_detail(request, pk):
    deal = selectors.deal_get(viewer=request.user, pk=pk)
    now = timezone.now()
    can_edit = services.can_edit_deal(request.user, deal)
    stages = selectors.stages_of(deal.pipeline)
    context = {
        "deal": deal,
        "visits": _stage_visits(selectors.deal_history(deal=deal)),
        "can_edit": can_edit,
        "can_move": can_edit and deal.status == Deal.Status.OPEN,
        "can_reopen": can_edit and deal.status != Deal.Status.OPEN,
        "move_stages": [stage for stage in stages if stage.pk != deal.stage_id],
        "over_sla": deal.stage_due_at is not None and deal.stage_due_at <= now,
        "now": now,
        **_activity(request, deal),
        "panels": [panel for panel in (func(request, deal) for func in _deal_panels) if panel],
    }
    return render(request, "pipeline/deal_detail.html", context)


@login_required
def deal_create(request):
    initial = {}
    account_id = request.GET.get("account", "")
    if account_id.isdigit():
        initial["account"] = customer_selectors.account_get(viewer=request.user, pk=account_id).pk
    form = DealCreateForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            deal = services.deal_create(by=request.user, **form.service_fields())
        except ValidationError as error:
            _form_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The deal was created."))
            return redirect("pipeline:deal_detail", pk=deal.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "pipeline/deal_form.html", {"form": form}, status=status)


@login_required
def deal_edit(request, pk):
    deal = selectors.deal_get(viewer=request.user, pk=pk)
    if not services.can_edit_deal(request.user, deal):
        raise PermissionDenied(_("You cannot change this deal."))
    form = DealForm(request.POST or None, instance=deal, user=request.user)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.deal_update(
                    by=request.user,
                    deal=selectors.deal_get(viewer=request.user, pk=pk),
                    expected_version=form.cleaned_data["version"],
                    **form.service_fields(),
                )
            except services.StaleVersionError as error:
                form.add_error(None, str(error))
                status = 409
            except ValidationError as error:
                _form_errors(form, error)
            except PermissionDenied as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("The deal was saved."))
                return redirect("pipeline:deal_detail", pk=pk)
    deal = selectors.deal_get(viewer=request.user, pk=pk)
    return render(request, "pipeline/deal_form.html", {"form": form, "deal": deal}, status=status)

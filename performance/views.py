"""Browser pages of the performance app: thin views over performance.selectors and
performance.services (DESIGN.md §3, §11.6)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from performance import periods, selectors, services
from performance.filtersets import TargetFilterSet
from performance.forms import (
    CopyLastYearForm,
    DecomposeForm,
    LeaderboardForm,
    TargetForm,
    TargetGridForm,
)
from performance.models import Metric, PeriodType

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

"""Browser pages of the customers app: thin views over customers.selectors and
customers.services (DESIGN.md §3, §11.6)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from customers import selectors, services
from customers.filtersets import AccountFilterSet, ContactFilterSet
from customers.forms import (
    AccountBulkForm,
    AccountForm,
    AccountMergeForm,
    ContactForm,
    FollowUpForm,
    ImportUploadForm,
    InteractionForm,
    LeadCaptureForm,
    SnoozeForm,
)
from teams.selectors import is_manager

PAGE_SIZE = 50

# Sort keys the account list offers, each backed by an index (DESIGN.md §10).
ACCOUNT_SORTS = {
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
    "status": ("status", "-updated_at", "-pk"),
    "-status": ("-status", "-updated_at", "-pk"),
    "-score": ("-lead_score", "-pk"),
    "score": ("lead_score", "pk"),
    "last_contacted": ("last_contacted_at", "pk"),
    "-last_contacted": ("-last_contacted_at", "-pk"),
    "-updated": ("-updated_at", "-pk"),
}
DEFAULT_SORT = "-updated"
DATETIME_FILTERS = ("last_contacted_after", "last_contacted_before")
HIDDEN_FILTERS = {"updated_after", "external_id", "min_size", "in_pool"}


def _form_errors(form, error: ValidationError) -> None:
    """Puts a service's validation error on the form, on its fields where they exist."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


# Accounts


def _account_filterset(request, queryset):
    filterset = AccountFilterSet(request.GET or None, queryset=queryset, request=request)
    for name in DATETIME_FILTERS:
        filterset.form.fields[name].widget.input_type = "datetime-local"
    return filterset


@login_required
def account_list(request):
    filterset = _account_filterset(request, selectors.account_list(viewer=request.user))
    sort = request.GET.get("sort") if request.GET.get("sort") in ACCOUNT_SORTS else DEFAULT_SORT
    page = Paginator(filterset.qs.order_by(*ACCOUNT_SORTS[sort]), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = list(page.object_list)
    extras = selectors.account_row_extras(
        viewer=request.user, account_ids=[account.pk for account in rows]
    )
    can_bulk = is_manager(request.user)
    context = {
        "filterset": filterset,
        "hidden_filters": HIDDEN_FILTERS,
        "page": page,
        "rows": [(account, extras[account.pk]) for account in rows],
        "sort": sort,
        "can_bulk": can_bulk,
        "bulk_form": AccountBulkForm(user=request.user) if can_bulk else None,
        "now": timezone.now(),
    }
    template = (
        "customers/partials/_account_table.html" if request.htmx else "customers/account_list.html"
    )
    return render(request, template, context)


@login_required
@require_POST
def account_bulk(request):
    form = AccountBulkForm(request.POST, user=request.user)
    back = reverse("customers:account_list")
    next_query = request.POST.get("next_query", "")
    if next_query:
        back = f"{back}?{next_query}"
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    data = form.cleaned_data
    try:
        if data["action"] == "reassign":
            changed = services.accounts_reassign(
                by=request.user, account_ids=data["accounts"], to_user=data["to_user"]
            )
        else:
            changed = services.accounts_bulk_tag(
                by=request.user,
                account_ids=data["accounts"],
                tags=data["tags"],
                remove=data["action"] == "untag",
            )
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(_messages_of(error)))
        return redirect(back)
    messages.success(
        request,
        ngettext("%(count)d account changed.", "%(count)d accounts changed.", changed)
        % {"count": changed},
    )
    return redirect(back)


def _messages_of(error) -> list[str]:
    if isinstance(error, ValidationError):
        return error.messages
    return [str(error) or _("You cannot do this.")]


def _detail_context(request, account, *, interaction_form=None):
    user = request.user
    can_edit = selectors.can_edit_account(user, account)
    return {
        "account": account,
        "contacts": list(account.contacts.all()),
        "score": selectors.score_explain(account=account),
        "timeline": selectors.account_timeline(viewer=user, account_id=account.pk),
        "interaction_form": interaction_form or InteractionForm(account=account),
        "can_edit": can_edit,
        "can_release": can_edit and account.owner_id is not None,
        "can_claim": account.in_pool,
        "can_merge": can_edit and is_manager(user),
    }


@login_required
def account_detail(request, pk):
    account = selectors.account_get(viewer=request.user, pk=pk)
    return render(request, "customers/account_detail.html", _detail_context(request, account))


@login_required
@require_POST
def interaction_log(request, pk):
    account = selectors.account_get(viewer=request.user, pk=pk)
    form = InteractionForm(request.POST, account=account)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.interaction_log(
                by=request.user,
                account=account,
                kind=data["kind"],
                subject=data["subject"],
                contact=data["contact"],
                outcome=data["outcome"],
                occurred_at=data["occurred_at"],
                summary=data["summary"],
                next_step=data["next_step"],
                next_step_due=data["next_step_due"],
            )
        except PermissionDenied as error:
            form.add_error(None, _messages_of(error))
        except ValidationError as error:
            _form_errors(form, error)
        else:
            if not request.htmx:
                messages.success(request, _("The interaction was logged."))
                return redirect("customers:account_detail", pk=account.pk)
            # Fresh from the database: the log moved the last contact and the score.
            account = selectors.account_get(viewer=request.user, pk=account.pk)
            form = InteractionForm(account=account)
            context = _detail_context(request, account, interaction_form=form)
            context["logged"] = True
            return render(request, "customers/partials/_activity.html", context)
    context = _detail_context(request, account, interaction_form=form)
    if request.htmx:
        return render(request, "customers/partials/_activity.html", context)
    return render(request, "customers/account_detail.html", context, status=400)


@login_required
def account_create(request):
    form = AccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.service_fields()
        data.setdefault("owner", request.user)
        try:
            account = services.account_create(
                by=request.user,
                allow_duplicate=form.cleaned_data.get("allow_duplicate", False),
                **data,
            )
        except services.DuplicateAccountError as error:
            # Offer the existing records and the choice to go ahead anyway.
            form = AccountForm(request.POST, user=request.user, duplicates=error.matches)
            form.is_valid()
        except ValidationError as error:
            _form_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, _messages_of(error))
        else:
            messages.success(request, _("The account was created."))
            return redirect("customers:account_detail", pk=account.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "customers/account_form.html", {"form": form}, status=status)


@login_required
def account_edit(request, pk):
    account = selectors.account_get(viewer=request.user, pk=pk)
    if not selectors.can_edit_account(request.user, account):
        raise PermissionDenied(_("You cannot change this account."))
    form = AccountForm(request.POST or None, instance=account, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_update(
                by=request.user,
                account=selectors.account_get(viewer=request.user, pk=pk),
                **form.service_fields(),
            )
        except ValidationError as error:
            _form_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, _messages_of(error))
        else:
            messages.success(request, _("The account was saved."))
            return redirect("customers:account_detail", pk=account.pk)
    status = 400 if request.method == "POST" else 200
    account = selectors.account_get(viewer=request.user, pk=pk)
    return render(
        request, "customers/account_form.html", {"form": form, "account": account}, status=status
    )


@login_required
def account_delete(request, pk):
    account = selectors.account_get(viewer=request.user, pk=pk)
    if not selectors.can_edit_account(request.user, account):
        raise PermissionDenied(_("You cannot change this account."))
    if request.method == "POST":
        services.account_delete(by=request.user, account=account)
        messages.success(request, _("The account %(name)s was deleted.") % {"name": account.name})
        return redirect("customers:account_list")
    return render(request, "customers/account_delete.html", {"account": account})


@login_required
@require_POST
def account_release(request, pk):
    account = selectors.account_get(viewer=request.user, pk=pk)
    try:
        services.account_release(
            by=request.user, account=account, reason=request.POST.get("reason", "")[:200]
        )
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(_messages_of(error)))
        return redirect("customers:account_detail", pk=account.pk)
    messages.success(
        request, _("%(name)s was returned to the public pool.") % {"name": account.name}
    )
    if selectors.account_list(viewer=request.user).filter(pk=account.pk).exists():
        return redirect("customers:account_detail", pk=account.pk)
    return redirect("customers:account_list")


@login_required
def account_merge(request):
    if not is_manager(request.user):
        raise PermissionDenied(_("Only a manager or an admin can do this."))
    initial = {key: request.GET.get(key) for key in ("survivor", "merged") if request.GET.get(key)}
    form = AccountMergeForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            record = services.accounts_merge(
                by=request.user,
                survivor=form.cleaned_data["survivor"],
                merged=form.cleaned_data["merged"],
            )
        except ValidationError as error:
            _form_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, _messages_of(error))
        else:
            messages.success(
                request,
                _("%(merged)s was merged into %(survivor)s.")
                % {"merged": record.merged.name, "survivor": record.survivor.name},
            )
            return redirect("customers:account_detail", pk=record.survivor_id)
    status = 400 if request.method == "POST" else 200
    return render(request, "customers/account_merge.html", {"form": form}, status=status)


# Public pool


@login_required
def pool(request):
    page = Paginator(selectors.pool_list(viewer=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "customers/pool.html",
        {"page": page, "allowance": selectors.pool_claim_allowance(user=request.user)},
    )


@login_required
@require_POST
def account_claim(request, pk):
    account = selectors.account_get(viewer=request.user, pk=pk)
    error_text = ""
    try:
        account = services.account_claim(by=request.user, account=account)
    except ValidationError as error:
        error_text = " ".join(error.messages)
    if request.htmx:
        return render(
            request,
            "customers/partials/_pool_row.html",
            {
                "account": account,
                "claimed": not error_text,
                "error": error_text,
                "allowance": selectors.pool_claim_allowance(user=request.user),
            },
        )
    if error_text:
        messages.error(request, error_text)
        return redirect("customers:pool")
    messages.success(request, _("You now own %(name)s.") % {"name": account.name})
    return redirect("customers:account_detail", pk=account.pk)


# Contacts


@login_required
def contact_list(request):
    filterset = ContactFilterSet(
        request.GET or None,
        queryset=selectors.contact_list(viewer=request.user).select_related("account__owner"),
        request=request,
    )
    page = Paginator(filterset.qs.order_by("name", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    template = (
        "customers/partials/_contact_table.html" if request.htmx else "customers/contact_list.html"
    )
    return render(
        request,
        template,
        {"filterset": filterset, "page": page, "hidden_filters": {"updated_after", "external_id"}},
    )


@login_required
def contact_detail(request, pk):
    contact = selectors.contact_get(viewer=request.user, pk=pk)
    interactions = selectors.interaction_list(
        viewer=request.user, filters={"contact": contact.pk}
    ).order_by("-occurred_at", "-id")[:50]
    return render(
        request,
        "customers/contact_detail.html",
        {
            "contact": contact,
            "interactions": interactions,
            "can_edit": selectors.can_edit_account(request.user, contact.account),
        },
    )


@login_required
def contact_create(request):
    initial = {}
    account_id = request.GET.get("account", "")
    if account_id.isdigit():
        initial["account"] = selectors.account_get(viewer=request.user, pk=account_id).pk
    form = ContactForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.contact_create(
                by=request.user, account=form.cleaned_data["account"], **form.service_fields()
            )
        except ValidationError as error:
            _form_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, _messages_of(error))
        else:
            messages.success(request, _("The contact was added."))
            return redirect("customers:contact_detail", pk=contact.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "customers/contact_form.html", {"form": form}, status=status)


@login_required
def contact_edit(request, pk):
    contact = selectors.contact_get(viewer=request.user, pk=pk)
    if not selectors.can_edit_account(request.user, contact.account):
        raise PermissionDenied(_("You cannot change this contact."))
    form = ContactForm(request.POST or None, instance=contact, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_update(
                by=request.user,
                contact=selectors.contact_get(viewer=request.user, pk=pk),
                account=form.cleaned_data["account"],
                **form.service_fields(),
            )
        except ValidationError as error:
            _form_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, _messages_of(error))
        else:
            messages.success(request, _("The contact was saved."))
            return redirect("customers:contact_detail", pk=pk)
    status = 400 if request.method == "POST" else 200
    contact = selectors.contact_get(viewer=request.user, pk=pk)
    return render(
        request, "customers/contact_form.html", {"form": form, "contact": contact}, status=status
    )


@login_required
def contact_delete(request, pk):
    contact = selectors.contact_get(viewer=request.user, pk=pk)
    if not selectors.can_edit_account(request.user, contact.account):
        raise PermissionDenied(_("You cannot change this contact."))
    if request.method == "POST":
        services.contact_delete(by=request.user, contact=contact)
        messages.success(request, _("The contact %(name)s was deleted.") % {"name": contact.name})
        return redirect("customers:account_detail", pk=contact.account_id)
    return render(request, "customers/contact_delete.html", {"contact": contact})


# Follow-ups


def _followups_context(request, *, form=None):
    buckets = selectors.my_followups(user=request.user)
    return {
        "buckets": buckets,
        "counts": selectors.followup_counts(buckets=buckets),
        "form": form or FollowUpForm(user=request.user),
        "snooze_choices": SnoozeForm.base_fields["days"].choices,
    }


@login_required
def my_followups(request):
    form = FollowUpForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.followup_create(
                by=request.user,
                account=data["account"],
                title=data["title"],
                due_at=data["due_at"],
                priority=data["priority"],
                note=data["note"],
            )
        except ValidationError as error:
            _form_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, _messages_of(error))
        else:
            messages.success(request, _("The follow-up was added."))
            return redirect("customers:my_followups")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "customers/followups.html", _followups_context(request, form=form), status=status
    )


def _followup_action_done(request, error_text: str = ""):
    if request.htmx:
        context = _followups_context(request)
        context["error"] = error_text
        return render(request, "customers/partials/_followup_buckets.html", context)
    if error_text:
        messages.error(request, error_text)
    return redirect("customers:my_followups")


@login_required
@require_POST
def followup_done(request, pk):
    followup = selectors.followup_get(viewer=request.user, pk=pk)
    try:
        services.followup_complete(by=request.user, followup=followup)
    except (ValidationError, PermissionDenied) as error:
        return _followup_action_done(request, " ".join(_messages_of(error)))
    if request.htmx:
        # The row goes away; the counts above the buckets follow out of band.
        buckets = selectors.my_followups(user=request.user)
        return render(
            request,
            "customers/partials/_followup_done.html",
            {"counts": selectors.followup_counts(buckets=buckets), "followup": followup},
        )
    messages.success(request, _("Done: %(title)s") % {"title": followup.title})
    return redirect("customers:my_followups")


@login_required
@require_POST
def followup_snooze(request, pk):
    followup = selectors.followup_get(viewer=request.user, pk=pk)
    form = SnoozeForm(request.POST)
    if not form.is_valid():
        return _followup_action_done(request, _("Choose how long to snooze."))
    try:
        services.followup_snooze(by=request.user, followup=followup, days=form.cleaned_data["days"])
    except (ValidationError, PermissionDenied) as error:
        return _followup_action_done(request, " ".join(_messages_of(error)))
    return _followup_action_done(request)


# Lead capture (public)


def lead_capture(request):
    form = LeadCaptureForm(request.POST or None)
    if request.method == "POST":
        if form.is_bot:
            # Pretend all went well, so the bot learns nothing.
            return redirect("customers:lead_thanks")
        if services.lead_capture_rate_limited(address=_client_address(request)):
            return render(request, "customers/lead_rate_limited.html", status=429)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.lead_capture(
                    company=data["company"],
                    name=data["name"],
                    phone=data["phone"],
                    email=data["email"],
                    industry=data["industry"],
                    region=data["region"],
                    message=data["message"],
                )
            except ValidationError as error:
                _form_errors(form, error)
            else:
                return redirect("customers:lead_thanks")
    status = 400 if request.method == "POST" else 200
    return render(request, "customers/lead_capture.html", {"form": form}, status=status)


def lead_thanks(request):
    return render(request, "customers/lead_thanks.html")


# Import and export


@login_required
def account_import(request):
    """Upload page: the file is stored as an import job and checked (a dry run); the job
    page then shows every bad row and offers to import."""
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.import_job_create(by=request.user, upload=form.cleaned_data["file"])
        except ValidationError as error:
            form.add_error("file", error.messages)
        else:
            return redirect("customers:import_job", pk=job.pk)
    return render(
        request,
        "customers/import.html",
        {
            "form": form,
            "columns": services.IMPORT_COLUMNS,
            "inline_max": services.INLINE_IMPORT_MAX_ROWS,
            "jobs": selectors.import_job_list(user=request.user)[:10],
        },
    )


@login_required
def import_template(request, file_format):
    content = services.import_template(file_format=file_format)
    response = HttpResponse(content, content_type=services.EXPORT_CONTENT_TYPES[file_format])
    response["Content-Disposition"] = f'attachment; filename="accounts-import.{file_format}"'
    return response


@login_required
def import_job(request, pk):
    """The job's progress while it runs (htmx polls the partial), then its result."""
    job = selectors.import_job_get(user=request.user, pk=pk)
    template = (
        "customers/partials/_import_job.html" if request.htmx else "customers/import_job.html"
    )
    return render(request, template, {"job": job})


@login_required
@require_POST
def import_job_start(request, pk):
    job = selectors.import_job_get(user=request.user, pk=pk)
    try:
        services.import_job_start(
            by=request.user, job=job, valid_only=request.POST.get("mode") == "valid"
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("customers:import_job", pk=job.pk)


@login_required
def account_export(request, file_format):
    """The account list as filtered and sorted on the page (visible rows only) as CSV or
    XLSX."""
    sort = request.GET.get("sort") if request.GET.get("sort") in ACCOUNT_SORTS else DEFAULT_SORT
    accounts = selectors.account_list(viewer=request.user, filters=request.GET, request=request)
    return _export_response(accounts.order_by(*ACCOUNT_SORTS[sort]), file_format)


def _export_response(accounts, file_format):
    filename = services.export_filename(file_format)
    if file_format == "csv":
        response = StreamingHttpResponse(
            services.export_csv_lines(accounts), content_type=services.EXPORT_CONTENT_TYPES["csv"]
        )
    else:
        response = HttpResponse(
            services.export_xlsx(accounts), content_type=services.EXPORT_CONTENT_TYPES["xlsx"]
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

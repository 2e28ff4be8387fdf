from django.contrib import admin, messages
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from customers import services
from customers.models import (
    Account,
    AccountEvent,
    AccountMerge,
    Contact,
    CustomerSettings,
    FollowUp,
    ImportJob,
    Industry,
    Interaction,
    LeadScoringRule,
    Region,
    Tag,
)


class LookupAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_zh", "active", "order"]
    list_editable = ["active", "order"]
    list_filter = ["active"]
    search_fields = ["code", "name", "name_zh"]
    ordering = ["order", "name"]


admin.site.register(Industry, LookupAdmin)
admin.site.register(Region, LookupAdmin)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "colour"]
    search_fields = ["name"]


@admin.register(LeadScoringRule)
class LeadScoringRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "field", "operator", "value", "points", "active", "order"]
    list_editable = ["points", "active", "order"]
    list_filter = ["active", "field"]
    search_fields = ["name", "value"]
    ordering = ["order", "id"]
    actions = ["recompute_all_scores"]

    @admin.action(description=_("Recompute every account's score with the active rules"))
    def recompute_all_scores(self, request, queryset):
        changed = services.accounts_recompute_scores()
        self.message_user(
            request,
            ngettext("%(count)d score changed.", "%(count)d scores changed.", changed)
            % {"count": changed},
            messages.SUCCESS,
        )


@admin.register(CustomerSettings)
class CustomerSettingsAdmin(admin.ModelAdmin):
    fieldsets = (
        (_("Lead scoring"), {"fields": ("tier_a_min_score", "tier_b_min_score")}),
        (
            _("Public pool"),
            {
                "fields": (
                    "pool_recycle_days",
                    "pool_warning_days",
                    "pool_claim_cap",
                    "pool_cooling_off_days",
                )
            },
        ),
        (_("Lead capture"), {"fields": ("lead_capture_team", "lead_capture_last_assignee")}),
    )
    readonly_fields = ["lead_capture_last_assignee"]
    autocomplete_fields = ["lead_capture_team"]

    def has_add_permission(self, request):
        return not CustomerSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "owner",
        "pool_team",
        "industry",
        "region",
        "status",
        "tier",
        "lead_score",
        "last_contacted_at",
    ]
    list_filter = ["status", "tier", "source", "industry", "region", "size_band", "tags"]
    search_fields = ["name", "name_pinyin", "name_initials", "phone", "email", "external_id"]
    list_select_related = ["owner", "pool_team", "industry", "region"]
    autocomplete_fields = ["owner", "pool_team", "industry", "region", "tags"]
    readonly_fields = [
        "lead_score",
        "tier",
        "last_contacted_at",
        "released_at",
        "released_by",
        "previous_owner",
        "created_at",
        "updated_at",
    ]
    actions = ["recompute_scores", "soft_delete"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request, obj, form, change):
        fields = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in services.ACCOUNT_FIELDS or name == "owner"
        }
        if change:
            services.account_update(by=request.user, account=obj, **fields)
            return
        # Admins enter known companies on purpose, so the duplicate warning does not apply.
        created = services.account_create(
            by=request.user,
            owner=form.cleaned_data.get("owner"),
            allow_duplicate=True,
            **{name: value for name, value in fields.items() if name != "owner"},
        )
        obj.pk = created.pk

    def delete_model(self, request, obj):
        services.account_delete(by=request.user, account=obj)

    def delete_queryset(self, request, queryset):
        for account in queryset:
            services.account_delete(by=request.user, account=account)

    @admin.action(description=_("Recompute the lead score"))
    def recompute_scores(self, request, queryset):
        for account in queryset:
            services.account_recompute_score(account=account)

    @admin.action(description=_("Delete (keeps a tombstone for sync clients)"))
    def soft_delete(self, request, queryset):
        self.delete_queryset(request, queryset)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "account", "title", "phone", "mobile", "email", "is_primary"]
    list_filter = ["decision_role", "preferred_channel", "is_primary"]
    search_fields = ["name", "name_pinyin", "phone", "mobile", "email", "account__name"]
    list_select_related = ["account"]
    raw_id_fields = ["account"]

    def save_model(self, request, obj, form, change):
        fields = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in services.CONTACT_FIELDS
        }
        if change:
            services.contact_update(
                by=request.user, contact=obj, account=form.cleaned_data["account"], **fields
            )
            return
        fields.pop("name", None)
        created = services.contact_create(
            by=request.user, account=obj.account, name=form.cleaned_data["name"], **fields
        )
        obj.pk = created.pk

    def delete_model(self, request, obj):
        services.contact_delete(by=request.user, contact=obj)

    def delete_queryset(self, request, queryset):
        for contact in queryset:
            services.contact_delete(by=request.user, contact=contact)


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ["subject", "account", "kind", "outcome", "occurred_at", "logged_by"]
    list_filter = ["kind", "outcome"]
    search_fields = ["subject", "account__name"]
    list_select_related = ["account", "logged_by"]
    raw_id_fields = ["account", "contact", "logged_by"]
    date_hierarchy = "occurred_at"


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ["title", "account", "assignee", "due_at", "status", "reminded_at"]
    list_filter = ["status", "priority"]
    search_fields = ["title", "account__name", "assignee__username"]
    list_select_related = ["account", "assignee"]
    raw_id_fields = ["account", "contact", "interaction", "assignee", "created_by"]
    date_hierarchy = "due_at"


@admin.register(AccountEvent)
class AccountEventAdmin(admin.ModelAdmin):
    list_display = ["account", "kind", "actor", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["account", "actor"]
    readonly_fields = ["account", "kind", "actor", "created_at", "detail"]

    def has_add_permission(self, request):
        return False


@admin.register(AccountMerge)
class AccountMergeAdmin(admin.ModelAdmin):
    list_display = ["survivor", "merged", "merged_by", "merged_at"]
    list_select_related = ["survivor", "merged", "merged_by"]
    readonly_fields = ["survivor", "merged", "merged_by", "merged_at", "counts", "snapshot"]

    def has_add_permission(self, request):
        return False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Imports are started and written from the import page; here they can be looked up."""

    list_display = [
        "original_name",
        "user",
        "status",
        "total",
        "valid_rows",
        "created_accounts",
        "created_contacts",
        "created_at",
    ]
    list_filter = ["status"]
    search_fields = ["original_name", "user__username"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

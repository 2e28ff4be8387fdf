"""Admin configuration of incentives: plans with their rules, tiers and bonuses (admins
write; the one-plan-per-person check is the service's), deal credits and costs, and
statements and disputes to look up (they change only through the app's workflows)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from incentives import services
from incentives.models import (
    Award,
    BonusRule,
    CommissionPlan,
    CommissionRule,
    CommissionTier,
    Contest,
    DealCost,
    DealCredit,
    Dispute,
    Kudos,
    RecognitionSettings,
    Statement,
    StatementLine,
)
from incentives.tasks import recompute_statements


class CommissionPlanForm(forms.ModelForm):
    class Meta:
        model = CommissionPlan
        fields = [
            "name",
            "effective_from",
            "effective_to",
            "period",
            "currency",
            "users",
            "teams",
            "ladder_levels",
        ]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        plan = self.instance
        for name in ("name", "effective_from", "effective_to", "period", "currency"):
            setattr(plan, name, data.get(name))
        try:
            services.validate_plan_assignments(
                plan=plan,
                users=data.get("users") or [],
                teams=data.get("teams") or [],
                ladder_levels=data.get("ladder_levels") or [],
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                self.add_error(field, errors)
        return data


class CommissionRuleInline(admin.StackedInline):
    model = CommissionRule
    extra = 0
    show_change_link = True


class BonusRuleInline(admin.StackedInline):
    model = BonusRule
    extra = 0


@admin.register(CommissionPlan)
class CommissionPlanAdmin(admin.ModelAdmin):
    form = CommissionPlanForm
    list_display = ["name", "effective_from", "effective_to", "period", "currency"]
    list_filter = ["period", "currency"]
    search_fields = ["name"]
    filter_horizontal = ["users", "teams", "ladder_levels"]
    inlines = [CommissionRuleInline, BonusRuleInline]

    def delete_model(self, request, obj):
        services.config_delete(by=request.user, instance=obj)


class CommissionTierInline(admin.TabularInline):
    model = CommissionTier
    extra = 0


@admin.register(CommissionRule)
class CommissionRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "plan", "basis", "product_category", "base_rate", "tier_mode", "cap"]
    list_filter = ["plan", "basis", "tier_mode"]
    search_fields = ["name", "plan__name"]
    list_select_related = ["plan", "product_category"]
    inlines = [CommissionTierInline]

    def save_related(self, request, form, formsets, change):
        with transaction.atomic():
            super().save_related(request, form, formsets, change)
            tiers = [
                {"from_percent": t.from_percent, "to_percent": t.to_percent, "rate": t.rate}
                for t in form.instance.tiers.all()
            ]
            try:
                services.validate_tiers(tiers)
            except ValidationError as error:
                transaction.set_rollback(True)
                messages.error(request, " ".join(error.messages))


@admin.register(BonusRule)
class BonusRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "plan", "kind", "amount", "percent"]
    list_filter = ["kind", "plan"]
    search_fields = ["name", "plan__name"]
    list_select_related = ["plan"]


@admin.register(DealCredit)
class DealCreditAdmin(admin.ModelAdmin):
    """Shown only: a deal's shares change together (summing to 100) through the API."""

    list_display = ["deal", "user", "percent", "updated_at"]
    search_fields = ["deal__name", "user__username"]
    list_select_related = ["deal", "user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DealCost)
class DealCostAdmin(admin.ModelAdmin):
    list_display = ["deal", "cost", "updated_at"]
    search_fields = ["deal__name"]
    raw_id_fields = ["deal"]
    list_select_related = ["deal"]


class StatementLineInline(admin.TabularInline):
    model = StatementLine
    fk_name = "statement"
    extra = 0
    can_delete = False
    fields = ["kind", "explanation", "basis", "rate", "amount", "deal", "corrects"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.action(description=_("Recompute all draft statements now"))
def recompute_drafts(modeladmin, request, queryset):
    transaction.on_commit(lambda: recompute_statements.delay())
    modeladmin.message_user(request, _("The draft statements are being recomputed."))


@admin.register(Statement)
class StatementAdmin(admin.ModelAdmin):
    list_display = ["user", "start", "end", "status", "total", "approved_by", "paid_at"]
    list_filter = ["status", "start"]
    search_fields = ["user__username", "user__last_name", "user__first_name"]
    list_select_related = ["user", "approved_by"]
    date_hierarchy = "start"
    inlines = [StatementLineInline]
    actions = [recompute_drafts]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Dispute)
class DisputeAdmin(admin.ModelAdmin):
    list_display = ["line", "raised_by", "status", "adjustment", "resolved_by", "created_at"]
    list_filter = ["status"]
    search_fields = ["raised_by__username", "comment"]
    list_select_related = ["line", "raised_by", "resolved_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RecognitionSettings)
class RecognitionSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "long_service_years"]

    def has_add_permission(self, request):
        return not RecognitionSettings.objects.exists()


@admin.register(Contest)
class ContestAdmin(admin.ModelAdmin):
    list_display = ["name", "metric", "start", "end", "finalized_at"]
    list_filter = ["metric"]
    search_fields = ["name"]
    filter_horizontal = ["participants"]
    readonly_fields = ["finalized_at", "created_by"]


@admin.register(Award)
class AwardAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "title", "period_start", "granted_by", "created_at"]
    list_filter = ["kind"]
    search_fields = ["user__username", "title"]
    list_select_related = ["user", "granted_by"]
    raw_id_fields = ["user", "contest"]


@admin.register(Kudos)
class KudosAdmin(admin.ModelAdmin):
    list_display = ["sender", "recipient", "message", "created_at"]
    search_fields = ["sender__username", "recipient__username", "message"]
    list_select_related = ["sender", "recipient"]
    raw_id_fields = ["sender", "recipient"]

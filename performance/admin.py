"""Admin configuration of the performance app."""

from django.contrib import admin

from performance import services
from performance.models import (
    CompanyDayOff,
    Expense,
    ImprovementPlan,
    PerformanceSettings,
    Review,
    ReviewCriterion,
    ReviewCycle,
    ReviewKpi,
    Target,
)

# Targets, attainment and leaderboards

TARGET_CREATE_FIELDS = (
    "period_type",
    "start",
    "end",
    "metric",
    "value",
    "user",
    "team",
    "product_category",
    "industry",
    "tier",
    "parent",
    "note",
)


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = ["__str__", "period_type", "start", "end", "metric", "value", "hand_edited"]
    list_filter = ["period_type", "metric", "hand_edited", "start"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "team__name"]
    date_hierarchy = "start"
    raw_id_fields = ["user", "team", "parent"]
    list_select_related = ["user", "team"]
    readonly_fields = ["created_by", "created_at", "updated_at"]
    fields = [
        "period_type",
        ("start", "end"),
        ("user", "team"),
        "metric",
        ("product_category", "industry", "tier"),
        "value",
        "parent",
        "hand_edited",
        "note",
        ("created_by", "created_at", "updated_at"),
    ]

    def get_readonly_fields(self, request, obj=None):
        # Once made, only the value and the note change, through the same service as the
        # planning grid (which marks the value as edited by hand).
        if obj is None:
            return self.readonly_fields
        editable = {"value", "note"}
        return [field.name for field in Target._meta.fields if field.name not in editable]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.target_update(
                by=request.user, target=obj, value=data["value"], note=data["note"]
            )
            return
        created = services.target_create(
            by=request.user,
            **{name: data.get(name) for name in TARGET_CREATE_FIELDS if name in data},
        )
        obj.pk = created.pk

    def delete_model(self, request, obj):
        services.target_delete(by=request.user, target=obj)

    def delete_queryset(self, request, queryset):
        for target in queryset:
            services.target_delete(by=request.user, target=target)


@admin.register(CompanyDayOff)
class CompanyDayOffAdmin(admin.ModelAdmin):
    list_display = ["date", "name"]
    date_hierarchy = "date"
    search_fields = ["name"]


@admin.register(PerformanceSettings)
class PerformanceSettingsAdmin(admin.ModelAdmin):
    fields = ["ramp_percentages", "leaderboard_scope", "behind_pace_percent"]

    def has_add_permission(self, request):
        return not PerformanceSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


# Reviews, 360 feedback and improvement plans


class ReviewKpiInline(admin.TabularInline):
    model = ReviewKpi
    extra = 0


class ReviewCriterionInline(admin.TabularInline):
    model = ReviewCriterion
    extra = 0


@admin.register(ReviewCycle)
class ReviewCycleAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "start", "end", "team", "status"]
    list_filter = ["kind", "status"]
    search_fields = ["name", "team__name"]
    date_hierarchy = "start"
    list_select_related = ["team"]
    raw_id_fields = ["team", "created_by"]
    readonly_fields = ["status", "opened_at", "closed_at", "created_at", "updated_at"]
    inlines = [ReviewKpiInline, ReviewCriterionInline]


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    """Read-mostly: reviews are written through the pages, where the rules apply."""

    list_display = ["reviewee", "cycle", "reviewer", "status", "overall_score"]
    list_filter = ["status", "cycle"]
    search_fields = ["reviewee__username", "reviewee__first_name", "reviewee__last_name"]
    list_select_related = ["reviewee", "reviewer", "cycle"]
    raw_id_fields = ["cycle", "reviewee", "reviewer"]
    readonly_fields = [
        "kpi_results",
        "kpis_filled_at",
        "criteria_scores",
        "overall_score",
        "submitted_at",
        "acknowledged_at",
    ]


@admin.register(ImprovementPlan)
class ImprovementPlanAdmin(admin.ModelAdmin):
    list_display = ["person", "owner", "status", "start", "end"]
    list_filter = ["status"]
    search_fields = ["person__username", "person__first_name", "person__last_name", "goals"]
    list_select_related = ["person", "owner"]
    raw_id_fields = ["review", "person", "owner"]


# Expenses


@admin.register(Expense)
class ExpenseAdmin(admin.ModelAdmin):
    list_display = ["user", "date", "category", "amount", "status", "decided_by"]
    list_filter = ["status", "category", "date"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "note"]
    date_hierarchy = "date"
    list_select_related = ["user", "decided_by"]
    raw_id_fields = ["user", "account", "deal", "decided_by"]
    readonly_fields = ["decided_by", "decided_at", "created_at", "updated_at"]

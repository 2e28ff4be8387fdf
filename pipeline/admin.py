"""Admin configuration of the pipeline: pipelines with their stages, assignment rules,
product categories, competitors and the SLA settings. Saves go through pipeline.services so
the rules (one default pipeline, stale dates following a changed SLA) hold here too."""

from django.contrib import admin

from pipeline import services
from pipeline.models import (
    AssignmentRule,
    Competitor,
    Deal,
    Pipeline,
    PipelineSettings,
    ProductCategory,
    Stage,
    StageChange,
)


class ServiceSaveMixin:
    def save_model(self, request, obj, form, change):
        services.config_save(by=request.user, instance=obj)

    def delete_model(self, request, obj):
        services.config_delete(by=request.user, instance=obj)


class StageInline(admin.TabularInline):
    model = Stage
    extra = 0
    ordering = ["order"]
    fields = [
        "order",
        "code",
        "name",
        "name_zh",
        "win_probability",
        "sla_days",
        "forecast_category",
        "required_fields",
        "checklist",
        "is_won",
        "is_lost",
    ]


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ["name", "name_zh", "is_default", "active", "order"]
    list_editable = ["order"]
    list_filter = ["active", "is_default"]
    search_fields = ["name", "name_zh"]
    ordering = ["order", "name"]
    inlines = [StageInline]

    def save_model(self, request, obj, form, change):
        services.pipeline_save(by=request.user, pipeline=obj)

    def delete_model(self, request, obj):
        services.config_delete(by=request.user, instance=obj)

    def save_formset(self, request, form, formset, change):
        stages = formset.save(commit=False)
        for stage in formset.deleted_objects:
            services.config_delete(by=request.user, instance=stage)
        for stage in stages:
            services.stage_save(by=request.user, stage=stage)
        formset.save_m2m()


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(ServiceSaveMixin, admin.ModelAdmin):
    list_display = ["name", "order", "active", "action", "user", "team", "last_assignee"]
    list_editable = ["order", "active"]
    list_filter = ["active", "action"]
    search_fields = ["name"]
    ordering = ["order", "id"]
    readonly_fields = ["last_assignee"]
    autocomplete_fields = ["user", "team"]


@admin.register(ProductCategory)
class ProductCategoryAdmin(ServiceSaveMixin, admin.ModelAdmin):
    list_display = ["code", "name", "name_zh", "active", "order"]
    list_editable = ["active", "order"]
    list_filter = ["active"]
    search_fields = ["code", "name", "name_zh"]
    ordering = ["order", "name"]


@admin.register(Competitor)
class CompetitorAdmin(ServiceSaveMixin, admin.ModelAdmin):
    list_display = ["name", "name_zh", "website", "active"]
    list_editable = ["active"]
    list_filter = ["active"]
    search_fields = ["name", "name_zh"]


@admin.register(PipelineSettings)
class PipelineSettingsAdmin(ServiceSaveMixin, admin.ModelAdmin):
    fields = ["first_contact_sla_hours"]

    def has_add_permission(self, request):
        return not PipelineSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


class StageChangeInline(admin.TabularInline):
    model = StageChange
    extra = 0
    can_delete = False
    fields = [
        "kind",
        "from_stage",
        "to_stage",
        "changed_at",
        "changed_by",
        "days_in_previous_stage",
    ]
    readonly_fields = fields
    ordering = ["changed_at", "id"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Deal)
class DealAdmin(admin.ModelAdmin):
    """Read-only: deals change through the app and the API, where the stage rules apply."""

    list_display = ["name", "account", "owner", "stage", "status", "amount", "expected_close"]
    list_filter = ["status", "pipeline", "stage", "forecast_category"]
    search_fields = ["name", "external_id"]
    list_select_related = ["account", "owner", "stage"]
    inlines = [StageChangeInline]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields] + ["competitors"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

"""Admin configuration of the performance app."""

from django.contrib import admin

from performance.models import CompanyDayOff, PerformanceSettings, Target

# Targets, attainment and leaderboards


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

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


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

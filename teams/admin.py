from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from teams import services
from teams.models import LadderLevel, Notification, OwnershipTransfer, Team, User


@admin.register(LadderLevel)
class LadderLevelAdmin(admin.ModelAdmin):
    list_display = ["rank", "code", "name", "name_zh"]
    search_fields = ["code", "name", "name_zh"]
    ordering = ["rank"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "manager", "region", "depth"]
    list_filter = ["depth", "region"]
    search_fields = ["name", "region", "manager__username", "manager__last_name"]
    autocomplete_fields = ["parent", "manager"]
    readonly_fields = ["path", "depth"]
    ordering = ["path"]

    def save_model(self, request, obj, form, change):
        if not change:
            created = services.team_create(
                by=request.user,
                name=obj.name,
                parent=obj.parent,
                manager=obj.manager,
                region=obj.region,
            )
            obj.pk, obj.path, obj.depth = created.pk, created.path, created.depth
            return
        stored = Team.objects.get(pk=obj.pk)
        services.team_update(
            by=request.user, team=stored, name=obj.name, region=obj.region, parent=obj.parent
        )
        if stored.manager_id != obj.manager_id:
            services.team_set_manager(by=request.user, team=stored, manager=obj.manager)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = [
        "username",
        "first_name",
        "last_name",
        "team",
        "role",
        "ladder_level",
        "is_active",
    ]
    list_filter = ["role", "ladder_level", "is_active", "team"]
    search_fields = ["username", "first_name", "last_name", "email", "phone"]
    list_select_related = ["team", "ladder_level"]
    autocomplete_fields = ["team"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (
            _("Sales organisation"),
            {
                "fields": (
                    "team",
                    "role",
                    "ladder_level",
                    "phone",
                    "hire_date",
                    "preferred_language",
                )
            },
        ),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("Sales organisation"), {"fields": ("team", "role", "ladder_level")}),
    )


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "recipient", "kind", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind"]
    search_fields = ["title", "recipient__username"]
    list_select_related = ["recipient"]
    raw_id_fields = ["recipient"]


@admin.register(OwnershipTransfer)
class OwnershipTransferAdmin(admin.ModelAdmin):
    list_display = ["from_user", "to_user", "performed_by", "performed_at"]
    list_select_related = ["from_user", "to_user", "performed_by"]
    readonly_fields = ["from_user", "to_user", "performed_by", "performed_at", "counts"]

    def has_add_permission(self, request):
        return False

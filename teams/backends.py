from django.contrib.auth.backends import ModelBackend

from teams.models import Role


class RoleBackend(ModelBackend):
    """Sales-ops admins (role admin) configure the whole product in the Django admin without
    a hand-kept list of model permissions."""

    def has_perm(self, user_obj, perm, obj=None):
        if user_obj.is_active and getattr(user_obj, "role", None) == Role.ADMIN:
            return True
        return super().has_perm(user_obj, perm, obj)

    def has_module_perms(self, user_obj, app_label):
        if user_obj.is_active and getattr(user_obj, "role", None) == Role.ADMIN:
            return True
        return super().has_module_perms(user_obj, app_label)

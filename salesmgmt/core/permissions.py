from rest_framework import permissions


class IsAdminRoleOrReadOnly(permissions.BasePermission):
    """Reads for any signed-in user (rows are already limited by visibility); writes for admins."""

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        return request.method in permissions.SAFE_METHODS or request.user.is_admin

from teams.selectors import is_manager, unread_notification_count


def navigation(request):
    """What the base layout needs: the unread count for the bell and the role-based menu."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notifications": unread_notification_count(user),
        "nav_is_manager": is_manager(user),
    }

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from customers import selectors as customer_selectors
from teams import selectors as team_selectors


@login_required
def home(request):
    """Home page for every role, composed from the apps' selectors."""
    user = request.user
    context = {
        "manager": team_selectors.manager_of(user),
        "reports": list(team_selectors.direct_reports(user)),
        "managed_teams": list(team_selectors.team_list(viewer=user).filter(manager=user)),
        "recent_notifications": list(
            team_selectors.notification_list(user=user, unread_only=True)[:5]
        ),
        "followups": customer_selectors.my_followups(user=user),
    }
    return render(request, "dashboards/home.html", context)

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from teams import selectors, services
from teams.filtersets import UserFilterSet
from teams.forms import LanguageForm, ProfileForm, ServicePasswordChangeForm
from teams.models import User

# Apps above teams add panels to the person page (incentives: awards and kudos). Each
# callable gets the request and the visible person and returns the panel's context with
# its "template", or None.
PersonPanel = Callable[[HttpRequest, User], dict | None]
_person_panels: list[PersonPanel] = []


def register_person_panel(func: PersonPanel) -> PersonPanel:
    if func not in _person_panels:
        _person_panels.append(func)
    return func


class LoginView(auth_views.LoginView):
    template_name = "teams/login.html"
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "teams/password_change.html"
    form_class = ServicePasswordChangeForm
    success_url = reverse_lazy("teams:profile")

    def form_valid(self, form):
        form.save()
        # Keep this session; every other session of the user ends with the old hash.
        update_session_auth_hash(self.request, form.user)
        messages.success(self.request, _("Your password was changed."))
        return HttpResponseRedirect(self.get_success_url())


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        services.profile_update(
            user=request.user, **{name: form.cleaned_data[name] for name in form.Meta.fields}
        )
        messages.success(request, _("Your profile was saved."))
        return redirect("teams:profile")
    if request.method == "POST":
        request.user.refresh_from_db()
    return render(request, "teams/profile.html", {"form": form})


@require_POST
def set_language(request):
    """Switches the interface language; remembered on the account for signed-in users."""
    form = LanguageForm(request.POST)
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response = redirect(next_url)
    if form.is_valid():
        language = form.cleaned_data["language"]
        if request.user.is_authenticated:
            services.profile_update(user=request.user, preferred_language=language)
        translation.activate(language)
        response.set_cookie("django_language", language, max_age=365 * 24 * 3600, samesite="Lax")
    return response


@login_required
def org_chart(request):
    return render(
        request, "teams/org_chart.html", {"tree": selectors.team_tree(viewer=request.user)}
    )


@login_required
def people(request):
    filterset = UserFilterSet(
        request.GET or None,
        queryset=User.objects.visible_to(request.user).select_related("team", "ladder_level"),
        request=request,
    )
    page = Paginator(filterset.qs.order_by("team__path", "username"), 50).get_page(
        request.GET.get("page")
    )
    template = "teams/partials/_people_table.html" if request.htmx else "teams/people.html"
    return render(request, template, {"filterset": filterset, "page": page})


@login_required
def person(request, pk):
    person = selectors.user_get(viewer=request.user, pk=pk)
    manager = selectors.manager_of(person)
    return render(
        request,
        "teams/person.html",
        {
            "person": person,
            "manager": manager,
            "manager_visible": manager is not None
            and selectors.user_can_see(request.user, manager),
            "reports": selectors.direct_reports(person).visible_to(request.user),
            "panels": [
                panel for panel in (func(request, person) for func in _person_panels) if panel
            ],
        },
    )


@login_required
def notifications(request):
    unread_only = request.GET.get("unread") == "1"
    page = Paginator(
        selectors.notification_list(user=request.user, unread_only=unread_only), 30
    ).get_page(request.GET.get("page"))
    return render(request, "teams/notifications.html", {"page": page, "unread_only": unread_only})


@login_required
@require_POST
def notification_read(request, pk):
    # Someone else's notification is not found (DESIGN.md §4: 404, never a silent success).
    get_object_or_404(selectors.notification_list(user=request.user), pk=pk)
    services.notification_mark_read(user=request.user, notification_id=pk)
    notification = selectors.notification_list(user=request.user).filter(pk=pk).first()
    if request.htmx and notification is not None:
        return render(
            request,
            "teams/partials/_notification.html",
            {"notification": notification, "oob_unread": True},
        )
    if notification is not None and notification.link and request.POST.get("follow"):
        return redirect(notification.link)
    return redirect("teams:notifications")


@login_required
@require_POST
def notifications_read_all(request):
    services.notification_mark_all_read(user=request.user)
    if request.htmx:
        response = HttpResponseRedirect(reverse("teams:notifications"))
        response["HX-Redirect"] = reverse("teams:notifications")
        return response
    return redirect("teams:notifications")

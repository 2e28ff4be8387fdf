import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_admin_role_without_superuser_can_configure_in_the_admin(org, client_for):
    client = client_for(org.admin)
    assert not org.admin.is_superuser
    for name in (
        "admin:teams_team_changelist",
        "admin:teams_ladderlevel_changelist",
        "admin:django_celery_beat_periodictask_changelist",
    ):
        assert client.get(reverse(name)).status_code == 200, name


def test_manager_role_is_kept_out_of_the_admin(org, client_for):
    response = client_for(org.east_mgr).get(reverse("admin:teams_team_changelist"))
    assert response.status_code == 302


def test_person_page_links_the_manager_only_when_the_viewer_may_open_it(org, client_for):
    manager_url = reverse("teams:person", args=[org.sup_a.pk])
    page = client_for(org.rep_a).get(reverse("teams:person", args=[org.rep_a.pk]))
    assert org.sup_a.display_name in page.content.decode()
    assert manager_url not in page.content.decode()

    page = client_for(org.east_mgr).get(reverse("teams:person", args=[org.rep_a.pk]))
    assert manager_url in page.content.decode()

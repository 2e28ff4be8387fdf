from django.urls import path, re_path

from customers import views

app_name = "customers"

urlpatterns = [
    path("accounts/", views.account_list, name="account_list"),
    path("accounts/new/", views.account_create, name="account_create"),
    path("accounts/bulk/", views.account_bulk, name="account_bulk"),
    path("accounts/merge/", views.account_merge, name="account_merge"),
    path("accounts/import/", views.account_import, name="account_import"),
    re_path(
        r"^accounts/import/template\.(?P<file_format>csv|xlsx)$",
        views.import_template,
        name="import_template",
    ),
    path("accounts/imports/<int:pk>/", views.import_job, name="import_job"),
    path("accounts/imports/<int:pk>/start/", views.import_job_start, name="import_job_start"),
    re_path(
        r"^accounts/export\.(?P<file_format>csv|xlsx)$", views.account_export, name="account_export"
    ),
    path("accounts/<int:pk>/", views.account_detail, name="account_detail"),
    path("accounts/<int:pk>/edit/", views.account_edit, name="account_edit"),
    path("accounts/<int:pk>/delete/", views.account_delete, name="account_delete"),
    path("accounts/<int:pk>/interactions/", views.interaction_log, name="interaction_log"),
    path("accounts/<int:pk>/release/", views.account_release, name="account_release"),
    path("accounts/<int:pk>/claim/", views.account_claim, name="account_claim"),
    path("contacts/", views.contact_list, name="contact_list"),
    path("contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact_detail"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact_delete"),
    path("follow-ups/", views.my_followups, name="my_followups"),
    path("follow-ups/<int:pk>/done/", views.followup_done, name="followup_done"),
    path("follow-ups/<int:pk>/snooze/", views.followup_snooze, name="followup_snooze"),
    path("pool/", views.pool, name="pool"),
    path("lead/", views.lead_capture, name="lead_capture"),
    path("lead/thanks/", views.lead_thanks, name="lead_thanks"),
]

from django.urls import path

from incentives import views

app_name = "incentives"

urlpatterns = [
    path("statements/", views.my_statements, name="my_statements"),
    path("statements/team/", views.team_statements, name="team_statements"),
    path("statements/payroll/", views.payroll, name="payroll"),
    path("statements/<int:pk>/", views.statement_detail, name="statement_detail"),
    path("statements/<int:pk>/export.xlsx", views.statement_export, name="statement_export"),
    path("statements/<int:pk>/approve/", views.statement_approve, name="statement_approve"),
    path("statements/<int:pk>/mark-paid/", views.statement_mark_paid, name="statement_mark_paid"),
    path("statements/<int:pk>/recompute/", views.statement_recompute, name="statement_recompute"),
    path("statements/lines/<int:line_pk>/dispute/", views.dispute_raise, name="dispute_raise"),
    path("disputes/", views.dispute_list, name="dispute_list"),
    path("disputes/<int:pk>/", views.dispute_resolve, name="dispute_resolve"),
    path("recognition/", views.recognition, name="recognition"),
    path("contests/", views.contest_list, name="contest_list"),
    path("contests/<int:pk>/", views.contest_detail, name="contest_detail"),
]

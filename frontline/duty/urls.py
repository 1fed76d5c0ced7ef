from django.urls import path

from . import views

urlpatterns = [
    path("duty/posts/", views.post_list, name="duty_posts"),
    path("duty/posts/<int:pk>/", views.post_roster, name="duty_roster"),
    path("duty/posts/<int:pk>/shifts/", views.shift_add, name="duty_shift_add"),
    path("duty/today/", views.today, name="duty_today"),
    path("duty/shifts/<int:pk>/check-in/", views.check_in, name="duty_check_in"),
    path("duty/shifts/<int:pk>/check-out/", views.check_out, name="duty_check_out"),
    path("duty/shifts/<int:pk>/patrol/", views.patrol_log, name="duty_patrol_log"),
    path("duty/roles/", views.roles, name="duty_roles"),
    path("duty/care/", views.care_add, name="duty_care_add"),
    path("duty/reports/", views.report_list, name="duty_reports"),
    path("duty/reports/<int:pk>/confirm/", views.report_confirm, name="duty_report_confirm"),
    path("duty/reports/<int:pk>/reject/", views.report_reject, name="duty_report_reject"),
    path("duty/branches/", views.branch_list, name="duty_branches"),
    path("duty/branches/<int:pk>/qr/", views.branch_qr, name="duty_branch_qr"),
    path("duty/deployments/", views.deployment_list, name="duty_deployments"),
    path("duty/deployments/<int:pk>/end/", views.deployment_end, name="duty_deployment_end"),
    path("duty/units/", views.units, name="duty_units"),
    path("duty/units/<int:pk>/", views.unit_edit, name="duty_unit"),
    path("duty/cadres/", views.cadres, name="duty_cadres"),
    path("duty/cadres/<int:pk>/", views.cadre_detail, name="duty_cadre"),
    path("duty/pairings/", views.pairings, name="duty_pairings"),
    path("duty/branches/<int:pk>/", views.branch_detail, name="duty_branch"),
    path("duty/pipeline/", views.pipeline, name="duty_pipeline"),
    path("duty/pipeline/<int:pk>/advance/", views.pipeline_advance, name="duty_pipeline_advance"),
    # Public: the page behind a branch's QR code, signed so it names one branch only.
    path("report/<str:token>/", views.report, name="party_report"),
]

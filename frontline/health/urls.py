"""Health pages. Each subdomain (zones, testing, isolation, transfers, care) adds its lines."""

from django.urls import path

from . import views_care, views_isolation, views_testing, views_transfers, views_zones

urlpatterns: list = [
    # Isolation points, transfer teams and transfers (h-transfers).
    path("health/points/", views_transfers.point_list, name="point_list"),
    path("health/points/<int:pk>/", views_transfers.point_detail, name="point_detail"),
    path("health/points/<int:pk>/edit/", views_transfers.point_edit, name="point_edit"),
    path("health/points/<int:pk>/staff/", views_transfers.point_staff, name="point_staff"),
    path(
        "health/points/<int:pk>/disinfect/",
        views_transfers.point_disinfect,
        name="point_disinfect",
    ),
    path(
        "health/residents/<int:pk>/transfer/",
        views_transfers.transfer_create,
        name="transfer_create",
    ),
    path("health/stays/<int:pk>/end/", views_transfers.stay_end, name="stay_end"),
    path("health/transfers/", views_transfers.transfer_board, name="transfer_board"),
    path("health/teams/", views_transfers.team_list, name="team_list"),
    path("health/teams/<int:pk>/", views_transfers.team_detail, name="team_detail"),
    # Home isolation (h-isolation).
    path("health/isolation/", views_isolation.isolation_list, name="isolation_list"),
    path("health/isolation/mine/", views_isolation.isolation_mine, name="isolation_mine"),
    path("health/isolation/new/", views_isolation.isolation_open, name="isolation_open"),
    path("health/isolation/<int:pk>/", views_isolation.isolation_detail, name="isolation_detail"),
    path(
        "health/isolation/<int:pk>/visit/", views_isolation.isolation_visit, name="isolation_visit"
    ),
    path(
        "health/isolation/<int:pk>/release/",
        views_isolation.isolation_release,
        name="isolation_release",
    ),
    # Care services (h-isolation).
    path("health/care/", views_care.care_schedule, name="care_schedule"),
    path("health/care/<int:pk>/record/", views_care.care_record, name="care_record"),
    path("health/care/new/", views_care.care_service_new, name="care_service_new"),
    path("health/care/<int:pk>/end/", views_care.care_service_end, name="care_service_end"),
    path("health/care/medical/", views_care.medical_staff, name="care_medical"),
    # Testing rounds (核酸检测).
    path("health/testing/", views_testing.testing_rounds, name="testing_rounds"),
    path("health/testing/<int:pk>/", views_testing.testing_round, name="testing_round"),
    path("health/testing/<int:pk>/sample/", views_testing.testing_sample, name="testing_sample"),
    path("health/testing/<int:pk>/missing/", views_testing.testing_missing, name="testing_missing"),
    path(
        "health/testing/<int:pk>/points/",
        views_testing.testing_point_add,
        name="testing_point_add",
    ),
    path(
        "health/testing/points/<int:pk>/",
        views_testing.testing_point_edit,
        name="testing_point_edit",
    ),
    path("health/testing/<int:pk>/door/", views_testing.testing_door, name="testing_door"),
    path("health/testing/<int:pk>/retest/", views_testing.testing_retest, name="testing_retest"),
    path("health/testing/<int:pk>/results/", views_testing.testing_results, name="testing_results"),
    path(
        "health/testing/<int:pk>/results/<str:token>/",
        views_testing.testing_results_commit,
        name="testing_results_commit",
    ),
    path(
        "health/testing/<int:pk>/result/",
        views_testing.testing_result_set,
        name="testing_result_set",
    ),
    # The hub and risk zones (h-zones).
    path("health/", views_zones.health_index, name="health_index"),
    path("health/zones/", views_zones.zone_page, name="health_zones"),
    path("health/zones/<int:pk>/lift/", views_zones.zone_lift_page, name="health_zone_lift"),
]

"""Health pages. Each subdomain (zones, testing, isolation, transfers, care) adds its lines."""

from django.urls import path  # noqa: F401

from . import views_care, views_isolation

urlpatterns: list = [
    # Home isolation (h-isolation).
    path("isolation/", views_isolation.isolation_list, name="isolation_list"),
    path("isolation/mine/", views_isolation.isolation_mine, name="isolation_mine"),
    path("isolation/new/", views_isolation.isolation_open, name="isolation_open"),
    path("isolation/<int:pk>/", views_isolation.isolation_detail, name="isolation_detail"),
    path("isolation/<int:pk>/visit/", views_isolation.isolation_visit, name="isolation_visit"),
    path(
        "isolation/<int:pk>/release/", views_isolation.isolation_release, name="isolation_release"
    ),
    # Care services (h-isolation).
    path("care/", views_care.care_schedule, name="care_schedule"),
    path("care/<int:pk>/record/", views_care.care_record, name="care_record"),
    path("care/medical/", views_care.medical_staff, name="care_medical"),
]

from django.urls import path

from . import transfer_views, views, views_field

urlpatterns = [
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("residents/", views.resident_search, name="resident_search"),
    path("residents/<int:pk>/reveal/", views.resident_reveal, name="resident_reveal"),
    path(
        "residents/<int:pk>/transfer/",
        transfer_views.resident_transfer_page,
        name="resident_transfer",
    ),
    path("census/import/", views.census_import, name="census_import"),
    path(
        "census/import/<str:token>/commit/",
        views.census_import_commit,
        name="census_import_commit",
    ),
    path(
        "census/import/<str:token>/errors.csv",
        views.census_import_errors,
        name="census_import_errors",
    ),
    path("census/jobs/<int:pk>/", views.census_job, name="census_job"),
    path("census/jobs/<int:pk>/status/", views.census_job_status, name="census_job_status"),
    path("census/jobs/<int:pk>/commit/", views.census_job_commit, name="census_job_commit"),
    path("census/jobs/<int:pk>/errors.csv", views.census_job_errors, name="census_job_errors"),
    path("census/template.xlsx", views.census_template, name="census_template"),
    path("census/export/", views.census_export, name="census_export"),
    path("worklists/<slug:kind>/", views_field.worklist, name="worklist"),
    path("households/<int:pk>/visits/", views_field.visit_create, name="visit_create"),
    path("visits/", views_field.visit_progress, name="visit_progress"),
    path("rosters/", views_field.roster, name="roster"),
]

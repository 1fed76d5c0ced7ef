from django.urls import path

from . import views

urlpatterns = [
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("residents/", views.resident_search, name="resident_search"),
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
    path("census/template.xlsx", views.census_template, name="census_template"),
    path("census/export/", views.census_export, name="census_export"),
]

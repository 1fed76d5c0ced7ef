"""Health pages. Each subdomain (zones, testing, isolation, transfers, care) adds its lines."""

from django.urls import path  # noqa: F401

from . import views_testing

urlpatterns: list = [
    # Testing rounds (核酸检测).
    path("health/testing/", views_testing.testing_rounds, name="testing_rounds"),
    path("health/testing/<int:pk>/", views_testing.testing_round, name="testing_round"),
    path("health/testing/<int:pk>/sample/", views_testing.testing_sample, name="testing_sample"),
    path("health/testing/<int:pk>/missing/", views_testing.testing_missing, name="testing_missing"),
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
]

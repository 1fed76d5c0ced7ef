"""Health routes of the API (included under /api/v1/ by frontline.api.urls)."""

from django.urls import path  # noqa: F401

from . import api_testing

urlpatterns: list = [
    # Testing rounds (核酸检测).
    path("testing-rounds", api_testing.RoundList.as_view(), name="testing-round-list"),
    path("testing-rounds/<int:pk>", api_testing.RoundDetail.as_view(), name="testing-round-detail"),
    path("testing-rounds/<int:pk>/tubes", api_testing.TubeList.as_view(), name="testing-tubes"),
    path(
        "testing-rounds/<int:pk>/coverage",
        api_testing.RoundCoverage.as_view(),
        name="testing-coverage",
    ),
    path(
        "testing-rounds/<int:pk>/missing",
        api_testing.RoundMissing.as_view(),
        name="testing-missing",
    ),
    path(
        "testing-rounds/<int:pk>/retest", api_testing.RoundRetest.as_view(), name="testing-retest"
    ),
    path(
        "testing-rounds/<int:pk>/results", api_testing.RoundResult.as_view(), name="testing-result"
    ),
]

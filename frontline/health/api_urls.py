"""Health routes of the API (included under /api/v1/ by frontline.api.urls)."""

from django.urls import path

from . import api_isolation, api_testing, api_transfers, api_zones

urlpatterns: list = [
    # Isolation points and transfers (h-transfers).
    path("isolation-points", api_transfers.PointList.as_view(), name="isolation-point-list"),
    path(
        "isolation-points/<int:pk>",
        api_transfers.PointDetail.as_view(),
        name="isolation-point-detail",
    ),
    path("transfers", api_transfers.TransferList.as_view(), name="transfer-list"),
    path("stays/<int:pk>/end", api_transfers.StayEnd.as_view(), name="stay-end"),
    # Home isolation and care services (h-isolation).
    path("isolation-cases", api_isolation.IsolationCaseList.as_view(), name="isolation-case-list"),
    path(
        "isolation-cases/<int:pk>",
        api_isolation.IsolationCaseDetail.as_view(),
        name="isolation-case-detail",
    ),
    path(
        "isolation-cases/<int:pk>/visits",
        api_isolation.IsolationVisit.as_view(),
        name="isolation-case-visits",
    ),
    path(
        "isolation-cases/<int:pk>/release",
        api_isolation.IsolationRelease.as_view(),
        name="isolation-case-release",
    ),
    path("care-services", api_isolation.CareServiceList.as_view(), name="care-service-list"),
    path(
        "care-services/<int:pk>/end",
        api_isolation.CareServiceEnd.as_view(),
        name="care-service-end",
    ),
    path(
        "care-services/<int:pk>/records",
        api_isolation.CareServiceRecord.as_view(),
        name="care-service-records",
    ),
    # Testing rounds (核酸检测).
    path("testing-rounds", api_testing.RoundList.as_view(), name="testing-round-list"),
    path("testing-rounds/<int:pk>", api_testing.RoundDetail.as_view(), name="testing-round-detail"),
    path("testing-rounds/<int:pk>/tubes", api_testing.TubeList.as_view(), name="testing-tubes"),
    path(
        "testing-rounds/<int:pk>/points",
        api_testing.RoundPoints.as_view(),
        name="testing-round-points",
    ),
    path("testing-points/<int:pk>", api_testing.PointDetail.as_view(), name="testing-point"),
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
    # Risk zones (h-zones).
    path("zones", api_zones.ZoneList.as_view(), name="zone-list"),
    path("zones/<int:pk>", api_zones.ZoneDetail.as_view(), name="zone-detail"),
    path("zones/<int:pk>/lift", api_zones.ZoneLift.as_view(), name="zone-lift"),
]

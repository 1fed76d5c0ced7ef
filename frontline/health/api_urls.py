"""Health routes of the API (included under /api/v1/ by frontline.api.urls)."""

from django.urls import path  # noqa: F401

from . import api_transfers

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
]

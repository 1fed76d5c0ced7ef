"""Health routes of the API (included under /api/v1/ by frontline.api.urls)."""

from django.urls import path

from . import api_zones

urlpatterns: list = [
    # Risk zones (h-zones).
    path("zones", api_zones.ZoneList.as_view(), name="zone-list"),
    path("zones/<int:pk>", api_zones.ZoneDetail.as_view(), name="zone-detail"),
    path("zones/<int:pk>/lift", api_zones.ZoneLift.as_view(), name="zone-lift"),
]

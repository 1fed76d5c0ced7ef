"""Health pages. Each subdomain (zones, testing, isolation, transfers, care) adds its lines."""

from django.urls import path

from . import views_zones

urlpatterns: list = [
    # The hub and risk zones (h-zones).
    path("health/", views_zones.health_index, name="health_index"),
    path("health/zones/", views_zones.zone_page, name="health_zones"),
    path("health/zones/<int:pk>/lift/", views_zones.zone_lift_page, name="health_zone_lift"),
]

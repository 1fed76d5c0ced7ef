"""Health pages. Each subdomain (zones, testing, isolation, transfers, care) adds its lines."""

from django.urls import path  # noqa: F401

urlpatterns: list = []

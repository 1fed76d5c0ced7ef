"""Health routes of the API (included under /api/v1/ by frontline.api.urls)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []

"""Supervision routes of the API (included under /api/v1/ by frontline.api.urls)."""

from django.urls import path

from . import api
from .services import TRANSITIONS

urlpatterns: list = [
    path("inspections", api.InspectionList.as_view(), name="inspection-list"),
    path("inspections/<int:pk>", api.InspectionDetail.as_view(), name="inspection-detail"),
    path("problems", api.ProblemList.as_view(), name="problem-list"),
    path("problems/<int:pk>", api.ProblemDetail.as_view(), name="problem-detail"),
    *[
        path(
            f"problems/<int:pk>/{step}", api.ProblemStep.as_view(step=step), name=f"problem-{step}"
        )
        for step in TRANSITIONS
    ],
]

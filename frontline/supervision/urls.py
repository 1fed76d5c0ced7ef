"""Supervision pages (督查), under /supervision/."""

from django.urls import path

from . import views

urlpatterns: list = [
    path("supervision/", views.board, name="inspection_board"),
    path("supervision/ours/", views.ours, name="supervision_ours"),
    path(
        "supervision/inspections/new/",
        views.inspection_create,
        name="supervision_inspection_create",
    ),
    path(
        "supervision/inspections/<int:pk>/",
        views.inspection_detail,
        name="supervision_inspection",
    ),
    path("supervision/problems/<int:pk>/", views.problem_detail, name="supervision_problem"),
    path(
        "supervision/problems/<int:pk>/<str:step>/",
        views.problem_step,
        name="supervision_problem_step",
    ),
]

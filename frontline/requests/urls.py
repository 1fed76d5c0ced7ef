from django.urls import path

from . import views

urlpatterns = [
    path("requests/", views.request_list, name="request_list"),
    path("requests/new/", views.request_create_page, name="request_create"),
    path("requests/mine/", views.my_tasks, name="my_tasks"),
    path("requests/board/", views.supervision_board, name="supervision_board"),
    path("inbox/", views.inbox, name="inbox"),
    path("requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("requests/<int:pk>/<slug:step>/", views.request_step, name="request_step"),
]

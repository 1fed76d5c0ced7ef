from django.urls import path

from . import views, views_groups, views_resident

urlpatterns = [
    path("requests/", views.request_list, name="request_list"),
    path("requests/new/", views.request_create_page, name="request_create"),
    path("requests/mine/", views.my_tasks, name="my_tasks"),
    path("requests/board/", views.supervision_board, name="supervision_board"),
    path("inbox/", views.inbox, name="inbox"),
    path("group-orders/", views_groups.group_order_list, name="group_order_list"),
    path("group-orders/<int:pk>/", views_groups.group_order_detail, name="group_order_detail"),
    path(
        "group-orders/<int:pk>/<slug:action>/",
        views_groups.group_order_action,
        name="group_order_action",
    ),
    path("suppliers/", views_groups.supplier_list, name="supplier_list"),
    path("households/<int:pk>/link/", views_resident.household_link, name="household_link"),
    path(
        "regions/<int:pk>/household-links/",
        views_resident.household_link_sheet,
        name="household_link_sheet",
    ),
    # The household's own page: no login, the signed link is the authority.
    path("r/<str:token>/", views_resident.resident_page, name="resident_page"),
    path("r/<str:token>/close/<int:pk>/", views_resident.resident_close, name="resident_close"),
    path(
        "r/<str:token>/photos/<int:pk>/<int:photo>/",
        views_resident.resident_photo,
        name="resident_photo",
    ),
    path("requests/<int:pk>/photos/<int:photo>/", views.request_photo, name="request_photo"),
    path("requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("requests/<int:pk>/<slug:step>/", views.request_step, name="request_step"),
]

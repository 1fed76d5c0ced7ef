from django.urls import path

from . import views

urlpatterns = [
    path("regions/<int:pk>/", views.region_detail, name="region_detail"),
    path("grids/", views.grid_list, name="grid_list"),
    path("grids/<int:pk>/", views.grid_detail, name="grid_detail"),
]

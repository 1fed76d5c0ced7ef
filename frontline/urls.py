from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("frontline.api.urls")),
    path("", include("frontline.accounts.urls")),
    path("", include("frontline.territory.urls")),
    path("", include("frontline.people.urls")),
    path("", include("frontline.audit.urls")),
    path("", include("frontline.requests.urls")),
    path("", include("frontline.duty.urls")),
    path("", include("frontline.health.urls")),
    path("", include("frontline.supervision.urls")),
    path("", include("frontline.core.urls")),
]

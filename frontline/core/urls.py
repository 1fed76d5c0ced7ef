from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    # Browsers ask for /favicon.ico whatever the page links to; answer instead of a 404.
    path(
        "favicon.ico",
        RedirectView.as_view(url=static("frontline/favicon.svg"), permanent=True),
        name="favicon",
    ),
]

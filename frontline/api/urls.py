from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import path, re_path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerSplitView

from frontline.audit.api import AuditList
from frontline.duty import api as duty_api
from frontline.health.api_urls import urlpatterns as health_api_urls
from frontline.requests import api as requests_api
from frontline.supervision.api_urls import urlpatterns as supervision_api_urls

from . import views

app_name = "api"

urlpatterns = [
    path("", views.ApiRoot.as_view(), name="root"),
    path("stats", views.StatsView.as_view(), name="stats"),
    path("regions", views.RegionList.as_view(), name="region-list"),
    path("regions/<int:pk>", views.RegionDetail.as_view(), name="region-detail"),
    path("households", views.HouseholdList.as_view(), name="household-list"),
    path("households/<int:pk>", views.HouseholdDetail.as_view(), name="household-detail"),
    path("residents", views.ResidentList.as_view(), name="resident-list"),
    path("residents/<int:pk>", views.ResidentDetail.as_view(), name="resident-detail"),
    path(
        "residents/<int:pk>/transfer",
        views.ResidentTransfer.as_view(),
        name="resident-transfer",
    ),
    path("grids", views.GridList.as_view(), name="grid-list"),
    path("visits", views.VisitList.as_view(), name="visit-list"),
    path("grids/<int:pk>", views.GridDetail.as_view(), name="grid-detail"),
    path("audit", AuditList.as_view(), name="audit-list"),
    path("requests", requests_api.RequestList.as_view(), name="request-list"),
    path("requests/<int:pk>", requests_api.RequestDetail.as_view(), name="request-detail"),
    path(
        "requests/<int:pk>/photos/<int:photo>",
        requests_api.RequestPhotoFile.as_view(),
        name="request-photo",
    ),
    path(
        "requests/<int:pk>/suggestions",
        requests_api.RequestSuggestions.as_view(),
        name="request-suggestions",
    ),
    *[
        path(
            f"requests/<int:pk>/{step}",
            requests_api.RequestStep.as_view(step=step),
            name=f"request-{step}",
        )
        for step in ("dispatch", "deliver", "report", "close", "cancel", "return")
    ],
    path("posts", duty_api.PostList.as_view(), name="post-list"),
    path("deployments", duty_api.DeploymentList.as_view(), name="deployment-list"),
    path("posts/<int:pk>/gaps", duty_api.PostGaps.as_view(), name="post-gaps"),
    path("shifts", duty_api.ShiftList.as_view(), name="shift-list"),
    path("shifts/<int:pk>/check-in", duty_api.ShiftCheckIn.as_view(), name="shift-check-in"),
    path("shifts/<int:pk>/check-out", duty_api.ShiftCheckOut.as_view(), name="shift-check-out"),
    # The schema and its docs are public: they describe the API, not anybody's data.
    # No authentication either, so a stale token in a browser cannot lock the docs out.
    path(
        "openapi.json",
        SpectacularJSONAPIView.as_view(authentication_classes=[]),
        name="schema",
    ),
    # The split view serves Swagger UI's start-up script from this same URL (?script=)
    # instead of inline, so the Content-Security-Policy keeps script-src 'self'. The page
    # and Swagger UI style themselves inline: that one page relaxes style-src, not script.
    re_path(
        r"^docs/?$",
        csp_update({"style-src": [UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="api:schema", authentication_classes=[])
        ),
        name="docs",
    ),
    # Health operations (frontline.health): zones, testing rounds, isolation, transfers,
    # care. Before the catch-all below, or they would never be reached.
    *health_api_urls,
    # Supervision (frontline.supervision): inspections, problems and their steps.
    *supervision_api_urls,
    # Last: anything else under /api/v1/ is a JSON 404, not the HTML page a browser gets,
    # so that a client with a typo reads an error it can parse.
    re_path(r"^.*$", views.no_such_route, name="no-such-route"),
]

"""The REST API: read-only views over the caller's jurisdiction.

Every list starts from `.visible_to(request.user)` and every single object comes through
`access_by_id`, so an id or a path outside the jurisdiction is a 404 exactly like one
that does not exist: the API cannot be used to probe what lies elsewhere.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from frontline.accounts.policy import Action, policy_for
from frontline.audit.models import AuditAction
from frontline.audit.services import audit_record, client_ip
from frontline.core.access import access_by_id
from frontline.core.errors import Conflict as DomainConflict
from frontline.core.errors import DomainError
from frontline.core.errors import NotFound as DomainNotFound
from frontline.core.errors import PermissionDenied as DomainPermissionDenied
from frontline.core.ratelimit import RateLimited
from frontline.duty.stats import mobilisation_stats
from frontline.health.stats import health_stats
from frontline.people.labels import CARE_GROUP_BY_LABEL
from frontline.people.models import CARE_GROUP_LABELS, Household, Resident, Visit
from frontline.people.queries import (
    household_for,
    households_for,
    resident_for,
    resident_search_for,
)
from frontline.people.services import REASON_MAX_LENGTH, resident_transfer
from frontline.people.stats import census_stats
from frontline.people.visits import visit_record, visits_for
from frontline.requests.stats import request_stats
from frontline.supervision.stats import supervision_stats
from frontline.territory.models import Grid, Level, Region
from frontline.territory.queries import grid_household_counts, natural_order
from frontline.territory.services import jurisdiction_of, region_by_path_for

from . import serializers as s


def parse_moment(value, field: str, *, offset_required: bool = True) -> dt.datetime:
    """An ISO 8601 time; a 400 naming `field` when it is not one."""
    text = str(value or "").strip()
    parsed = None
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or (offset_required and parsed.tzinfo is None):
        raise exceptions.ValidationError(
            {
                field: [
                    _(
                        "“%(field)s” is an ISO 8601 time with an offset, e.g. "
                        "2022-04-04T08:00:00+08:00."
                    )
                    % {"field": field}
                ]
            }
        )
    if parsed.tzinfo is None:
        parsed = timezone.make_aware(parsed)
    return parsed


class ConflictError(exceptions.APIException):
    status_code = 409
    default_code = "conflict"


def exception_handler(exc, context):
    """Domain errors become JSON `{"detail": ...}` with the status they mean."""
    if isinstance(exc, RateLimited):
        # Not DRF's Throttled, which appends its own "expected available in" sentence to a
        # message that already says when to try again; `wait` still sets Retry-After.
        limited = exceptions.APIException(exc.message, code="throttled")
        limited.status_code = 429
        limited.wait = exc.retry_after  # type: ignore[attr-defined]
        exc = limited
    elif isinstance(exc, DomainNotFound):
        exc = exceptions.NotFound(exc.message)
    elif isinstance(exc, DomainPermissionDenied):
        exc = exceptions.PermissionDenied(exc.message)
    elif isinstance(exc, DomainConflict):
        exc = ConflictError(exc.message)
    elif isinstance(exc, DomainError):
        exc = exceptions.ParseError(exc.message)
    return drf_exception_handler(exc, context)


# A plain Django view, not a DRF one: the browsable API builds its breadcrumb from every
# URL prefix that resolves to a DRF view, and a catch-all DRF view would put itself in
# as "No Such Route" between /api/v1/ and every route under it.
@csrf_exempt
def no_such_route(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {"detail": _("No such API route: %(path)s") % {"path": request.path}},
        status=404,
        json_dumps_params={"ensure_ascii": False},
    )


@extend_schema(exclude=True)
class ApiRoot(APIView):
    """The routes of the API; public, like the schema, since it lists no data."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get_view_name(self) -> str:
        return _("Frontline API")

    def get(self, request: Request) -> Response:
        names = {
            "stats": "api:stats",
            "regions": "api:region-list",
            "households": "api:household-list",
            "residents": "api:resident-list",
            "grids": "api:grid-list",
            "audit": "api:audit-list",
            "visits": "api:visit-list",
            "requests": "api:request-list",
            "posts": "api:post-list",
            "schema": "api:schema",
            "docs": "api:docs",
        }
        return Response({key: reverse(name, request=request) for key, name in names.items()})


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


ERRORS = {401: ErrorSerializer, 404: ErrorSerializer}
SEARCH_ERRORS = {**ERRORS, 400: ErrorSerializer, 429: ErrorSerializer}
REGION_PARAM = OpenApiParameter(
    "region",
    str,
    description=gettext_lazy(
        "A region path from the district down, e.g. 裕安区/城南镇/陡步河社区/安康小区; "
        "defaults to the caller's jurisdiction. Outside it, 404."
    ),
)


class ApiView(APIView):
    pagination_class = Pagination

    def get_exception_handler(self):
        return exception_handler

    def jurisdiction(self) -> Region:
        region = jurisdiction_of(self.request.user)
        if region is None:
            raise DomainNotFound(_("Your account has no jurisdiction."))
        return region

    def requested_region(self) -> Region | None:
        """The region named by `?region=PATH`, or None when the caller names none."""
        path = self.request.query_params.get("region", "").strip()
        return region_by_path_for(self.request.user, path) if path else None

    def bool_param(self, name: str) -> bool | None:
        value = self.request.query_params.get(name, "").strip().lower()
        if not value:
            return None
        if value in ("true", "1", "yes"):
            return True
        if value in ("false", "0", "no"):
            return False
        raise exceptions.ParseError(
            _("The parameter “%(name)s” must be true or false.") % {"name": name}
        )

    def int_param(self, name: str) -> int | None:
        value = self.request.query_params.get(name, "").strip()
        if not value:
            return None
        try:
            return int(value)
        except ValueError:
            raise exceptions.ParseError(
                _("The parameter “%(name)s” must be a whole number.") % {"name": name}
            ) from None


class StatsView(ApiView):
    @extend_schema(
        summary=gettext_lazy("Census figures for a region"),
        description=gettext_lazy(
            "The same JSON object as `frontline stats --json`: households, residents, "
            "buildings, compounds, party members, households that cannot order online, "
            "and residents per care group (keyed by the Chinese sheet label)."
        ),
        parameters=[REGION_PARAM],
        responses={
            200: inline_serializer(
                "CensusStats",
                {
                    "region": serializers.CharField(),
                    "households": serializers.IntegerField(),
                    "residents": serializers.IntegerField(),
                    "buildings": serializers.IntegerField(),
                    "compounds": serializers.IntegerField(),
                    "party_members": serializers.IntegerField(),
                    "away": serializers.IntegerField(),
                    "cannot_order_online": serializers.IntegerField(),
                    "care_groups": inline_serializer(
                        "CareGroupCounts",
                        {label: serializers.IntegerField() for label in CARE_GROUP_LABELS.values()},
                    ),
                    "visits_today": serializers.IntegerField(),
                    "visits": inline_serializer(
                        "VisitCounts",
                        {code: serializers.IntegerField() for code in Visit.Outcome.values},
                    ),
                    "requests": inline_serializer(
                        "RequestFigures",
                        {
                            "open": inline_serializer(
                                "OpenRequestsPerStep",
                                {
                                    code: serializers.IntegerField()
                                    for code in ("received", "dispatched", "delivering", "reported")
                                },
                            ),
                            "overdue": serializers.IntegerField(),
                            "closed_today": serializers.IntegerField(),
                            "median_minutes_to_close": serializers.FloatField(allow_null=True),
                            "mean_satisfaction": serializers.FloatField(allow_null=True),
                        },
                    ),
                    # Units, cadres, reports, branches, posts, gaps, the pipeline: see
                    # `frontline stats`; nested counts by rank and by pipeline stage.
                    "mobilisation": serializers.DictField(),
                    # Zones, the current testing round, isolation, points, transfers and
                    # care: see `frontline stats`; nested counts by zone level.
                    "health": serializers.DictField(),
                    # Inspections, problems by status, overdue, the on-time rate: see
                    # `frontline stats`.
                    "supervision": serializers.DictField(),
                },
            ),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        region = self.requested_region() or self.jurisdiction()
        return Response(
            {
                **census_stats(region),
                "requests": request_stats(region),
                "mobilisation": mobilisation_stats(region),
                "health": health_stats(region),
                "supervision": supervision_stats(region),
            }
        )


@extend_schema(
    summary=gettext_lazy("Regions in the caller's jurisdiction"),
    parameters=[
        OpenApiParameter(
            "parent", int, description=gettext_lazy("Only the direct children of this region.")
        ),
        OpenApiParameter(
            "region",
            str,
            description=gettext_lazy("Only this region and everything under it (a path)."),
        ),
        OpenApiParameter(
            "level",
            int,
            enum=Level.values,
            description=gettext_lazy(
                "Only regions of this level: 0 city, 1 district, 2 township, 3 community, "
                "4 compound, 5 building."
            ),
        ),
    ],
    responses={200: s.RegionSerializer(many=True), **ERRORS},
)
class RegionList(ApiView, ListAPIView):
    serializer_class = s.RegionSerializer

    def get_queryset(self):
        regions = Region.objects.visible_to(self.request.user)
        if (parent_id := self.int_param("parent")) is not None:
            parent = access_by_id(Region.objects.all(), self.request.user, parent_id)
            regions = regions.filter(parent=parent)
        if (region := self.requested_region()) is not None:
            regions = regions.within(region)
        if (level := self.int_param("level")) is not None:
            regions = regions.filter(level=level)
        return regions


@extend_schema(summary=gettext_lazy("One region"), responses={200: s.RegionSerializer, **ERRORS})
class RegionDetail(ApiView, RetrieveAPIView):
    serializer_class = s.RegionSerializer

    def get_object(self):
        return access_by_id(Region.objects.all(), self.request.user, self.kwargs["pk"])


@extend_schema(
    summary=gettext_lazy("Households in the caller's jurisdiction"),
    parameters=[
        REGION_PARAM,
        OpenApiParameter(
            "cannot_order_online",
            bool,
            description=gettext_lazy(
                "true: only households where nobody can order online; false: the others."
            ),
        ),
    ],
    responses={200: s.HouseholdSerializer(many=True), **ERRORS},
)
class HouseholdList(ApiView, ListAPIView):
    serializer_class = s.HouseholdSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            # The schema generator asks for a queryset: it is nobody's read of anybody.
            return Household.objects.none()
        households = households_for(
            self.request.user, channel="api", ip=client_ip(self.request)
        ).select_related("building")
        if (region := self.requested_region()) is not None:
            households = households.within(region)
        offline = self.bool_param("cannot_order_online")
        if offline is not None:
            households = (
                households.filter(online_members=0)
                if offline
                else households.filter(online_members__gt=0)
            )
        # The order of the (building, unit, room) unique index: pages come off the index.
        return households.order_by("building_id", "unit", "room", "id")


@extend_schema(
    summary=gettext_lazy("One household with its residents"),
    responses={200: s.HouseholdDetailSerializer, **ERRORS},
)
class HouseholdDetail(ApiView, RetrieveAPIView):
    serializer_class = s.HouseholdDetailSerializer

    def get_object(self):
        households = Household.objects.select_related("building").prefetch_related(
            Prefetch(
                "residents",
                queryset=Resident.objects.prefetch_related("care_groups").order_by("id"),
            )
        )
        return household_for(
            self.request.user,
            self.kwargs["pk"],
            queryset=households,
            channel="api",
            ip=client_ip(self.request),
        )


@extend_schema(
    summary=gettext_lazy("Search residents"),
    description=gettext_lazy(
        "`q` is a name (or part of one), the last four digits of a phone, a whole mobile "
        "number or a whole ID number. A role that sees phones or ID numbers masked may not "
        "search by them (400). Searches are limited per account and minute (429). Without "
        "`q`, every resident in the jurisdiction (or under `region`)."
    ),
    parameters=[
        OpenApiParameter(
            "q",
            str,
            description=gettext_lazy("Name, last four digits of a phone, or an ID number."),
        ),
        REGION_PARAM,
        OpenApiParameter(
            "care_group",
            str,
            enum=list(CARE_GROUP_LABELS.values()),
            description=gettext_lazy(
                "Only residents of this care group, named by its sheet label (独居老人, 透析, ...)."
            ),
        ),
    ],
    responses={200: s.ResidentSerializer(many=True), **SEARCH_ERRORS},
)
class ResidentList(ApiView, ListAPIView):
    serializer_class = s.ResidentSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            # The schema generator asks for a queryset: it is nobody's read of anybody.
            return Resident.objects.none()
        region = self.requested_region()
        residents = resident_search_for(
            self.request.user,
            self.request.query_params.get("q", ""),
            channel="api",
            ip=client_ip(self.request),
        )
        if region is not None:
            residents = residents.within(region)
        label = self.request.query_params.get("care_group", "").strip()
        if label:
            if label not in CARE_GROUP_BY_LABEL:
                raise exceptions.ParseError(
                    _("Unknown care group “%(label)s”; one of: %(choices)s.")
                    % {"label": label, "choices": "、".join(CARE_GROUP_LABELS.values())}
                )
            residents = residents.filter(care_groups__group=CARE_GROUP_BY_LABEL[label])
        # Not by birth date: the order would rank people whose birth dates are hidden.
        return (
            residents.select_related("household__building")
            .prefetch_related("care_groups")
            .order_by("household_id", "id")
        )


@extend_schema(
    summary=gettext_lazy("One resident"), responses={200: s.ResidentDetailSerializer, **ERRORS}
)
class ResidentDetail(ApiView, RetrieveAPIView):
    serializer_class = s.ResidentDetailSerializer

    def get_object(self):
        residents = Resident.objects.select_related("household__building").prefetch_related(
            "care_groups"
        )
        return resident_for(
            self.request.user,
            self.kwargs["pk"],
            queryset=residents,
            channel="api",
            ip=client_ip(self.request),
        )


def _grids():
    return Grid.objects.select_related("region").prefetch_related("members", "coverage")


@extend_schema(
    summary=gettext_lazy("Grids in the caller's jurisdiction"),
    parameters=[REGION_PARAM],
    responses={200: s.GridSerializer(many=True), **ERRORS},
)
class GridList(ApiView, ListAPIView):
    serializer_class = s.GridSerializer

    def get_queryset(self):
        grids = _grids().visible_to(self.request.user)
        if (region := self.requested_region()) is not None:
            grids = grids.within(region)
        # The same order as the grid pages: 第二网格 before 第十网格.
        return natural_order(grids, "name", first=["level"])

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        context = {**self.get_serializer_context(), "household_counts": grid_household_counts(page)}
        return self.get_paginated_response(s.GridSerializer(page, many=True, context=context).data)


@extend_schema(summary=gettext_lazy("One grid"), responses={200: s.GridSerializer, **ERRORS})
class GridDetail(ApiView, RetrieveAPIView):
    serializer_class = s.GridSerializer

    def get_object(self):
        return access_by_id(_grids(), self.request.user, self.kwargs["pk"])

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        grid = self.get_object()
        context = {
            **self.get_serializer_context(),
            "household_counts": grid_household_counts([grid]),
        }
        return Response(s.GridSerializer(grid, context=context).data)


class TransferRequestSerializer(serializers.Serializer):
    household = serializers.IntegerField(
        help_text=gettext_lazy("The id of the household the resident moves into.")
    )
    reason = serializers.CharField(
        max_length=REASON_MAX_LENGTH, help_text=gettext_lazy("Why; kept in the audit trail.")
    )


@extend_schema(
    summary=gettext_lazy("Transfer a resident to another household"),
    description=gettext_lazy(
        "Moves the resident into an existing household. The caller's role must allow "
        "transfers and both the resident and the household must lie in the caller's "
        "jurisdiction (else 403 / 404). Audited with the reason."
    ),
    request=TransferRequestSerializer,
    responses={
        200: s.ResidentDetailSerializer,
        400: ErrorSerializer,
        403: ErrorSerializer,
        **ERRORS,
    },
)
class ResidentTransfer(ApiView):
    def post(self, request: Request, pk: int) -> Response:
        # The role first, then the resident: a refused role learns nothing about ids.
        policy_for(request.user).require(Action.TRANSFER)
        resident = access_by_id(Resident.objects.all(), request.user, pk)
        body = TransferRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        household = (
            Household.objects.visible_to(request.user)
            .filter(pk=body.validated_data["household"])
            .first()
        )
        if household is None:
            raise DomainNotFound(
                _("No household with id %(id)d in your jurisdiction.")
                % {"id": body.validated_data["household"]}
            )
        resident_transfer(
            resident=resident,
            household=household,
            actor=request.user,
            reason=body.validated_data["reason"],
            ip=client_ip(request),
        )
        fresh = (
            Resident.objects.select_related("household__building")
            .prefetch_related("care_groups")
            .get(pk=resident.pk)
        )
        return Response(s.ResidentDetailSerializer(fresh, context={"request": request}).data)


@extend_schema(
    summary=gettext_lazy("Door visits"),
    description=gettext_lazy(
        "GET: the visits in the caller's jurisdiction, under `region` and on `date` "
        "(YYYY-MM-DD) if given, newest first. POST: record a visit to a household "
        "(`household`, `outcome`, `purpose`, `note`, `needs`); 201 with the visit."
    ),
    parameters=[
        REGION_PARAM,
        OpenApiParameter("date", OpenApiTypes.DATE, description=gettext_lazy("Only this day.")),
    ],
    request=s.VisitCreateSerializer,
    responses={200: s.VisitSerializer(many=True), 201: s.VisitSerializer, **SEARCH_ERRORS},
)
class VisitList(ApiView, ListAPIView):
    serializer_class = s.VisitSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            # The schema generator asks for a queryset: it is nobody's read of anybody.
            return Visit.objects.none()
        raw = self.request.query_params.get("date", "").strip()
        try:
            day = dt.date.fromisoformat(raw) if raw else None
        except ValueError:
            raise exceptions.ParseError(_("The date is written YYYY-MM-DD.")) from None
        region = self.requested_region()
        visits = visits_for(self.request.user, region=region, day=day)
        # One trace per list read: notes may say something about the people visited.
        audit_record(
            actor=self.request.user,
            action=AuditAction.SEARCH,
            object_type="visit",
            region=region or policy_for(self.request.user).jurisdiction,
            detail={"worklist": "visits", "channel": "api", "date": raw},
            ip=client_ip(self.request),
        )
        return visits.select_related("household__building").order_by("-at", "-id")

    def post(self, request: Request) -> Response:
        data = s.VisitCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        household = access_by_id(
            Household.objects.select_related("building"),
            request.user,
            data.validated_data["household"],
        )
        visit = visit_record(
            actor=request.user,
            household=household,
            outcome=data.validated_data["outcome"],
            purpose=data.validated_data["purpose"],
            note=data.validated_data.get("note", ""),
            needs=data.validated_data.get("needs", ""),
            channel="api",
            ip=client_ip(request),
        )
        return Response(s.VisitSerializer(visit, context={"request": request}).data, status=201)

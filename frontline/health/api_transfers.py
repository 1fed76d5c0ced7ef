"""The transfers API (issue 9, pinned): isolation points with their occupancy, transfers
into them (409 when full), and the end of a stay.

Points are those the caller reaches (inside the jurisdiction, or at a region above it:
a district's hotel serves its townships); anything else is a 404 like a point that does
not exist. Transfers and stays are of residents inside the jurisdiction.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from frontline.accounts.policy import Action, policy_for
from frontline.api.views import ERRORS, REGION_PARAM, ApiView, ErrorSerializer
from frontline.core.access import access_by_id
from frontline.duty.api import parse_time
from frontline.people.models import Resident

from . import transfers
from .models import IsolationPoint, Stay

WRITE_ERRORS = {**ERRORS, 400: ErrorSerializer, 403: ErrorSerializer, 409: ErrorSerializer}


class PointSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="region.display_path", read_only=True)
    occupancy = serializers.SerializerMethodField()
    free = serializers.SerializerMethodField()
    disinfected_today = serializers.SerializerMethodField()

    class Meta:
        model = IsolationPoint
        fields = [
            "id",
            "name",
            "region",
            "address",
            "capacity",
            "occupancy",
            "free",
            "active",
            "disinfected_today",
        ]
        read_only_fields = fields

    def get_occupancy(self, obj) -> int:
        return int(obj.occupancy)

    def get_free(self, obj) -> int:
        return max(obj.capacity - int(obj.occupancy), 0)

    def get_disinfected_today(self, obj) -> bool:
        return bool(obj.disinfected)


class PointCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    region = serializers.CharField(help_text=gettext_lazy("A region path."))
    capacity = serializers.IntegerField(min_value=1)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    contact = serializers.CharField(max_length=32, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)


class StaySerializer(serializers.ModelSerializer):
    resident_name = serializers.CharField(source="resident.name", read_only=True)
    point_name = serializers.CharField(source="point.name", read_only=True)
    # Plain text, not an enum: `outcome` is already the name of the door visits' enum in
    # the schema, and a second one would collide there.
    outcome = serializers.CharField(read_only=True)

    class Meta:
        model = Stay
        fields = [
            "id",
            "resident",
            "resident_name",
            "point",
            "point_name",
            "team",
            "reason",
            "start",
            "end",
            "outcome",
            "end_note",
        ]
        read_only_fields = fields


class TransferCreateSerializer(serializers.Serializer):
    resident = serializers.IntegerField()
    point = serializers.IntegerField()
    at = serializers.CharField(help_text=gettext_lazy("ISO 8601 with offset."))
    team = serializers.IntegerField(required=False, allow_null=True)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)


class StayEndSerializer(serializers.Serializer):
    at = serializers.CharField(help_text=gettext_lazy("ISO 8601 with offset."))
    outcome = serializers.CharField(
        help_text=gettext_lazy("released, hospital or moved."), max_length=10
    )
    note = serializers.CharField(max_length=200, required=False, allow_blank=True)


@extend_schema(
    summary=gettext_lazy("Isolation points"),
    description=gettext_lazy(
        "GET: the isolation points the caller reaches (inside the jurisdiction or at a "
        "region above it), under `region` if given, with `capacity`, `occupancy` (open "
        "stays) and `free`. POST: create one (`name`, `region` a path, `capacity`); 201 "
        "with its `id`."
    ),
    parameters=[REGION_PARAM],
    request=PointCreateSerializer,
    responses={200: PointSerializer(many=True), 201: PointSerializer, **WRITE_ERRORS},
)
class PointList(ApiView, ListAPIView):
    serializer_class = PointSerializer

    def get_queryset(self):
        return transfers.points_for(self.request.user, self.requested_region())

    def post(self, request: Request) -> Response:
        body = PointCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        policy_for(request.user).require(Action.MANAGE_TRANSFERS)
        region = policy_for(request.user).region_by_path(data["region"])
        point = transfers.point_create(
            name=data["name"],
            region=region,
            capacity=data["capacity"],
            address=data.get("address", ""),
            contact=data.get("contact", ""),
            phone=data.get("phone", ""),
            actor=request.user,
        )
        shown = transfers.point_for(request.user, point.pk)
        return Response(PointSerializer(shown).data, status=201)


@extend_schema(
    summary=gettext_lazy("An isolation point"),
    description=gettext_lazy("Its capacity, occupancy (open stays) and free places."),
    responses={200: PointSerializer, **ERRORS},
)
class PointDetail(ApiView):
    def get(self, request: Request, pk: int) -> Response:
        return Response(PointSerializer(transfers.point_for(request.user, pk)).data)


def _day(value: str) -> dt.date:
    if not value:
        return timezone.localdate()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise exceptions.ParseError(
            _("The parameter “%(name)s” is a date, e.g. 2026-04-06.") % {"name": "date"}
        ) from None


@extend_schema(
    methods=["GET"],
    summary=gettext_lazy("Transfers of a day"),
    description=gettext_lazy(
        "The transfers (stays opened) on `date` (local, default today) of residents in the "
        "caller's jurisdiction, under `region` if given."
    ),
    parameters=[REGION_PARAM, OpenApiParameter("date", OpenApiTypes.DATE)],
    responses={200: StaySerializer(many=True), **ERRORS, 400: ErrorSerializer},
)
@extend_schema(
    methods=["POST"],
    summary=gettext_lazy("Transfer a person to an isolation point"),
    description=gettext_lazy(
        "`resident` and `point` (ids), `at` (ISO 8601 with an offset), optional `team` "
        "and `reason`. 201 with the stay; 409 when the point is full or the person is "
        "already at a point (nothing is written)."
    ),
    request=TransferCreateSerializer,
    responses={201: StaySerializer, **WRITE_ERRORS},
)
class TransferList(ApiView, ListAPIView):
    serializer_class = StaySerializer

    def get_queryset(self):
        day = _day(self.request.query_params.get("date", "").strip())
        return transfers.transfers_on(self.request.user, day, self.requested_region())

    def post(self, request: Request) -> Response:
        body = TransferCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        policy_for(request.user).require(Action.MANAGE_TRANSFERS)
        at = parse_time(data["at"], "at")
        resident = access_by_id(
            Resident.objects.select_related("household__building"), request.user, data["resident"]
        )
        point = transfers.point_for(request.user, data["point"])
        team = (
            transfers.team_for(request.user, data["team"]) if data.get("team") is not None else None
        )
        stay = transfers.transfer_create(
            resident=resident,
            point=point,
            at=at,
            team=team,
            reason=data.get("reason", ""),
            actor=request.user,
        )
        return Response(StaySerializer(stay).data, status=201)


@extend_schema(
    summary=gettext_lazy("End a stay at an isolation point"),
    description=gettext_lazy(
        "`at` (ISO 8601 with an offset), `outcome` (released, hospital or moved), "
        "optional `note`. 409 when the stay has already ended."
    ),
    request=StayEndSerializer,
    responses={200: StaySerializer, **WRITE_ERRORS},
)
class StayEnd(ApiView):
    def post(self, request: Request, pk: int) -> Response:
        body = StayEndSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        stay = transfers.stay_for(request.user, pk)
        ended = transfers.stay_end(
            stay=stay,
            at=parse_time(data["at"], "at"),
            outcome=data["outcome"],
            note=data.get("note", ""),
            actor=request.user,
        )
        return Response(StaySerializer(ended).data)

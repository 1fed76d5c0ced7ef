"""The risk zones API (pinned in issue 9): set, lift, what is in force at a moment, one
zone with its history.

Times are ISO 8601. A zone's `since` and a lift's `at` need an offset (a time without one
is refused, not guessed); `on` may be a date or a time without one, read in the
deployment's time zone (Asia/Shanghai). Bad input is a 400 keyed by the field.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from frontline.accounts.policy import Action, policy_for
from frontline.api.views import ERRORS, REGION_PARAM, ApiView, ErrorSerializer, parse_moment
from frontline.audit.services import client_ip
from frontline.core.access import access_by_id

from . import zones
from .models import RiskZone, ZoneLevel

WRITE_ERRORS = {**ERRORS, 400: ErrorSerializer, 403: ErrorSerializer, 409: ErrorSerializer}


class ZoneSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="region.display_path", read_only=True)
    # Plain strings in the schema: an enum named "level" collides with the regions' levels.
    level = serializers.CharField(read_only=True, help_text="sealed, controlled, precaution")
    level_label = serializers.CharField(source="get_level_display", read_only=True)

    class Meta:
        model = RiskZone
        fields = ["id", "region", "level", "level_label", "since", "reason", "lifted_at"]
        read_only_fields = fields


class ZoneEventSerializer(serializers.Serializer):
    event = serializers.ChoiceField(choices=["set", "lift"])
    at = serializers.DateTimeField()
    by = serializers.CharField(allow_blank=True)
    reason = serializers.CharField()
    recorded_at = serializers.DateTimeField(allow_null=True)


class ZoneDetailSerializer(ZoneSerializer):
    lift_reason = serializers.CharField(read_only=True)
    history = serializers.SerializerMethodField()

    class Meta(ZoneSerializer.Meta):
        fields = [*ZoneSerializer.Meta.fields, "lift_reason", "history"]
        read_only_fields = fields

    @extend_schema_field(ZoneEventSerializer(many=True))
    def get_history(self, zone: RiskZone) -> list[dict]:
        events = [
            {
                "event": "set",
                "at": zone.since,
                "by": zone.set_by.username if zone.set_by_id else "",
                "reason": zone.reason,
                "recorded_at": zone.set_at,
            }
        ]
        if zone.lifted_at is not None:
            events.append(
                {
                    "event": "lift",
                    "at": zone.lifted_at,
                    "by": zone.lifted_by.username if zone.lifted_by_id else "",
                    "reason": zone.lift_reason,
                    "recorded_at": None,
                }
            )
        return ZoneEventSerializer(events, many=True).data


class ZoneCreateSerializer(serializers.Serializer):
    region = serializers.CharField(help_text=gettext_lazy("A region path."))
    level = serializers.CharField(help_text="sealed, controlled, precaution")
    since = serializers.CharField(help_text=gettext_lazy("ISO 8601 with offset."))
    reason = serializers.CharField(max_length=zones.REASON_MAX_LENGTH)

    def validate_level(self, value: str) -> str:
        if value not in ZoneLevel.values:
            raise serializers.ValidationError(
                _("“level” is one of: %(choices)s.") % {"choices": ", ".join(ZoneLevel.values)}
            )
        return value


class ZoneLiftSerializer(serializers.Serializer):
    at = serializers.CharField(help_text=gettext_lazy("ISO 8601 with offset."))
    reason = serializers.CharField(max_length=zones.REASON_MAX_LENGTH)


@extend_schema(
    methods=["GET"],
    summary=gettext_lazy("Risk zones in force at a moment"),
    description=gettext_lazy(
        "The zones in force at `on` (ISO 8601; now if omitted) in the region's subtree and "
        "on its ancestors: a lifted zone is not, nor one that has not started yet."
    ),
    parameters=[REGION_PARAM, OpenApiParameter("on", OpenApiTypes.DATETIME)],
    responses={200: ZoneSerializer(many=True), **ERRORS, 400: ErrorSerializer},
)
@extend_schema(
    methods=["POST"],
    summary=gettext_lazy("Set a risk zone"),
    description=gettext_lazy(
        "`region` (a path), `level` (sealed, controlled, precaution), `since` (ISO 8601 "
        "with an offset), `reason`; 201 with its `id`. 409 when the same level is already "
        "in force on that region (nothing is written)."
    ),
    request=ZoneCreateSerializer,
    responses={201: ZoneSerializer, **WRITE_ERRORS},
)
class ZoneList(ApiView, ListAPIView):
    serializer_class = ZoneSerializer

    def get_queryset(self):
        region = self.requested_region() or self.jurisdiction()
        raw = self.request.query_params.get("on", "").strip()
        on = parse_moment(raw, "on", offset_required=False) if raw else timezone.now()
        return zones.zones_in_force(region, on)

    def post(self, request: Request) -> Response:
        body = ZoneCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        since = parse_moment(data["since"], "since")
        policy = policy_for(request.user)
        policy.require(Action.MANAGE_ZONES)
        region = policy.region_by_path(data["region"])
        zone = zones.zone_set(
            region=region,
            level=data["level"],
            since=since,
            reason=data["reason"],
            actor=request.user,
            ip=client_ip(request),
        )
        return Response(ZoneSerializer(zone).data, status=201)


@extend_schema(
    summary=gettext_lazy("One risk zone and its history"),
    responses={200: ZoneDetailSerializer, **ERRORS},
)
class ZoneDetail(ApiView):
    def get(self, request: Request, pk: int) -> Response:
        zone = access_by_id(
            RiskZone.objects.select_related("region", "set_by", "lifted_by"), request.user, pk
        )
        return Response(ZoneDetailSerializer(zone).data)


@extend_schema(
    summary=gettext_lazy("Lift a risk zone"),
    description=gettext_lazy(
        "`at` (ISO 8601 with an offset, after the zone's start) and `reason`. 409 when the "
        "zone is lifted already."
    ),
    request=ZoneLiftSerializer,
    responses={200: ZoneDetailSerializer, **WRITE_ERRORS},
)
class ZoneLift(ApiView):
    def post(self, request: Request, pk: int) -> Response:
        body = ZoneLiftSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        at = parse_moment(body.validated_data["at"], "at")
        policy_for(request.user).require(Action.MANAGE_ZONES)
        zone = access_by_id(RiskZone.objects.select_related("region"), request.user, pk)
        zone = zones.zone_lift(
            zone=zone,
            at=at,
            reason=body.validated_data["reason"],
            actor=request.user,
            ip=client_ip(request),
        )
        return Response(ZoneDetailSerializer(zone).data)

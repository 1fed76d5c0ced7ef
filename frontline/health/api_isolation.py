"""The API of home isolation and care services (issue 9): cases, visits, release; the
day's care schedule and recording an occurrence done."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response

from frontline.accounts.models import User
from frontline.accounts.policy import Action, policy_for
from frontline.api.views import ERRORS, ApiView, ErrorSerializer
from frontline.audit.services import client_ip
from frontline.core.access import access_by_id
from frontline.core.errors import DomainError
from frontline.people.models import Resident
from frontline.requests.models import Category

from . import care, isolation
from .models import (
    CareRecord,
    CareService,
    HealthVisit,
    IsolationCase,
    IsolationCategory,
    VisitSlot,
)

WRITE_ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 409: ErrorSerializer, **ERRORS}


class HealthVisitSerializer(serializers.ModelSerializer):
    """Temperature, symptoms and needs are health data: null for whoever may not see them."""

    temperature = serializers.SerializerMethodField()
    symptoms = serializers.SerializerMethodField()
    needs = serializers.SerializerMethodField()
    flagged = serializers.SerializerMethodField()
    request = serializers.SerializerMethodField()

    class Meta:
        model = HealthVisit
        fields = ["id", "day", "slot", "at", "visitor", "temperature", "symptoms", "needs"]
        fields += ["flagged", "request"]
        read_only_fields = fields

    def _sees(self, obj: HealthVisit) -> bool:
        return bool(self.context.get("sees_health"))

    def get_temperature(self, obj: HealthVisit) -> str | None:
        return str(obj.temperature) if self._sees(obj) else None

    def get_symptoms(self, obj: HealthVisit) -> str | None:
        return obj.symptoms if self._sees(obj) else None

    def get_needs(self, obj: HealthVisit) -> str | None:
        return obj.needs if self._sees(obj) else None

    def get_flagged(self, obj: HealthVisit) -> bool | None:
        return obj.flagged if self._sees(obj) else None

    def get_request(self, obj: HealthVisit) -> str | None:
        return obj.request.number if obj.request_id else None


class IsolationCaseSerializer(serializers.ModelSerializer):
    resident_name = serializers.CharField(source="resident.name", read_only=True)
    address = serializers.CharField(source="resident.household.address", read_only=True)
    keeper = serializers.CharField(source="keeper.username", read_only=True)

    class Meta:
        model = IsolationCase
        fields = ["id", "resident", "resident_name", "address", "category", "reason", "start"]
        fields += ["planned_end", "keeper", "status", "ended_at", "end_note"]
        read_only_fields = fields


class IsolationCaseDetailSerializer(IsolationCaseSerializer):
    visits = serializers.SerializerMethodField()

    class Meta(IsolationCaseSerializer.Meta):
        fields = [*IsolationCaseSerializer.Meta.fields, "visits"]
        read_only_fields = fields

    def get_visits(self, obj: IsolationCase) -> list:
        visits = obj.visits.select_related("request").order_by("-day", "-slot")
        return HealthVisitSerializer(visits, many=True, context=self.context).data  # type: ignore[return-value]


class IsolationCaseCreateSerializer(serializers.Serializer):
    resident = serializers.IntegerField()
    category = serializers.ChoiceField(choices=IsolationCategory.choices)
    reason = serializers.CharField(max_length=200)
    start = serializers.DateField()
    planned_end = serializers.DateField()
    keeper = serializers.CharField(help_text="A username.")


class HealthVisitCreateSerializer(serializers.Serializer):
    slot = serializers.ChoiceField(choices=VisitSlot.choices)
    temperature = serializers.CharField(max_length=10)
    symptoms = serializers.CharField(required=False, allow_blank=True, default="")
    needs = serializers.CharField(required=False, allow_blank=True, default="")
    visitor = serializers.CharField(required=False, allow_blank=True, default="")
    raise_request = serializers.BooleanField(required=False, default=False)
    category = serializers.ChoiceField(
        choices=Category.choices, required=False, default=Category.OTHER
    )


class IsolationReleaseSerializer(serializers.Serializer):
    at = serializers.DateTimeField(required=False)
    note = serializers.CharField(required=False, allow_blank=True, default="")


def _keeper(username: str) -> User:
    user = User.objects.filter(username=(username or "").strip(), is_active=True).first()
    if user is None:
        raise DomainError(_("Choose an active account to keep the case."))
    return user


@extend_schema(
    summary=gettext_lazy("Home-isolation cases in the caller's jurisdiction, and opening one"),
    parameters=[
        OpenApiParameter("region", str, description=gettext_lazy("A region path.")),
        OpenApiParameter("status", str, enum=IsolationCase.Status.values),
    ],
    request=IsolationCaseCreateSerializer,
    responses={
        200: IsolationCaseSerializer(many=True),
        201: IsolationCaseDetailSerializer,
        **WRITE_ERRORS,
    },
)
class IsolationCaseList(ApiView, ListAPIView):
    serializer_class = IsolationCaseSerializer

    def get_queryset(self):
        cases = isolation.cases_for(self.request.user)
        region = self.requested_region()
        if region is not None:
            cases = cases.within(region)
        status = self.request.query_params.get("status", "").strip()
        if status:
            if status not in IsolationCase.Status.values:
                raise exceptions.ParseError(_("Unknown status."))
            cases = cases.filter(status=status)
        return cases.order_by("status", "planned_end", "id")

    def post(self, request, *args, **kwargs) -> Response:
        body = IsolationCaseCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        v = body.validated_data
        resident = access_by_id(
            Resident.objects.select_related("household__building"), request.user, v["resident"]
        )
        case = isolation.case_open(
            resident=resident,
            category=v["category"],
            reason=v["reason"],
            start=v["start"],
            planned_end=v["planned_end"],
            keeper=_keeper(v["keeper"]),
            actor=request.user,
            ip=client_ip(request),
        )
        return Response(_detail(request, case.pk), status=201)


def _detail(request, pk: int) -> dict:
    case = access_by_id(isolation.cases_for(request.user), request.user, pk)
    context = {"sees_health": policy_for(request.user).sees_case_health(case)}
    return IsolationCaseDetailSerializer(case, context=context).data  # type: ignore[return-value]


@extend_schema(
    summary=gettext_lazy("One home-isolation case with its visits"),
    responses={200: IsolationCaseDetailSerializer, **ERRORS},
)
class IsolationCaseDetail(ApiView):
    def get(self, request, pk: int) -> Response:
        return Response(_detail(request, pk))


@extend_schema(
    summary=gettext_lazy("Record a twice-daily visit"),
    description=gettext_lazy(
        "`slot` am or pm, `temperature` in °C (34.0–43.0), `symptoms`, `needs`, `visitor`; "
        "with `raise_request` the needs become a request of the household (`category`). "
        "409 when the slot of the day is already recorded or the case is no longer open."
    ),
    request=HealthVisitCreateSerializer,
    responses={201: IsolationCaseDetailSerializer, **WRITE_ERRORS},
)
class IsolationVisit(ApiView):
    def post(self, request, pk: int) -> Response:
        body = HealthVisitCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        v = body.validated_data
        case = access_by_id(isolation.cases_for(request.user), request.user, pk)
        isolation.visit_record(
            case=case,
            slot=v["slot"],
            temperature=v["temperature"],
            symptoms=v["symptoms"],
            needs=v["needs"],
            visitor=v["visitor"],
            raise_request=v["raise_request"],
            category=v["category"],
            actor=request.user,
            ip=client_ip(request),
        )
        return Response(_detail(request, pk), status=201)


@extend_schema(
    summary=gettext_lazy("Release a home-isolation case"),
    request=IsolationReleaseSerializer,
    responses={200: IsolationCaseDetailSerializer, **WRITE_ERRORS},
)
class IsolationRelease(ApiView):
    def post(self, request, pk: int) -> Response:
        body = IsolationReleaseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case = access_by_id(isolation.cases_for(request.user), request.user, pk)
        isolation.case_release(
            case=case,
            at=body.validated_data.get("at"),
            note=body.validated_data["note"],
            actor=request.user,
            ip=client_ip(request),
        )
        return Response(_detail(request, pk))


class CareOccurrenceSerializer(serializers.Serializer):
    service = serializers.IntegerField(source="service.pk")
    kind = serializers.CharField(source="service.kind")
    resident = serializers.IntegerField(source="service.resident_id")
    resident_name = serializers.CharField(source="service.resident.name")
    address = serializers.CharField(source="service.resident.household.address")
    due = serializers.DateTimeField()
    state = serializers.CharField()
    destination = serializers.CharField(source="service.destination")
    vehicle = serializers.CharField(source="service.vehicle")
    escort = serializers.CharField(source="service.escort")
    keeper = serializers.SerializerMethodField()

    def get_keeper(self, row) -> str | None:
        keeper = row["service"].keeper
        return keeper.username if keeper else None


class CareRecordCreateSerializer(serializers.Serializer):
    due = serializers.DateTimeField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CareRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = CareRecord
        fields = ["id", "service", "due", "status", "at", "note"]
        read_only_fields = fields


class CareServiceSerializer(serializers.ModelSerializer):
    resident_name = serializers.CharField(source="resident.name", read_only=True)
    keeper = serializers.SerializerMethodField()

    class Meta:
        model = CareService
        fields = ["id", "resident", "resident_name", "kind", "weekdays", "time", "destination"]
        fields += ["vehicle", "escort", "keeper", "start", "end", "note"]
        read_only_fields = fields

    def get_keeper(self, obj: CareService) -> str | None:
        return obj.keeper.username if obj.keeper_id else None


class CareServiceCreateSerializer(serializers.Serializer):
    resident = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=CareService.Kind.choices)
    weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=7),
        allow_empty=False,
        help_text=gettext_lazy("ISO weekdays, 1 (Monday) to 7 (Sunday)."),
    )
    time = serializers.TimeField()
    keeper = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="A username (optional)."
    )
    destination = serializers.CharField(required=False, allow_blank=True, default="")
    vehicle = serializers.CharField(required=False, allow_blank=True, default="")
    escort = serializers.CharField(required=False, allow_blank=True, default="")
    start = serializers.DateField()
    end = serializers.DateField(required=False, allow_null=True, default=None)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CareServiceEndSerializer(serializers.Serializer):
    end = serializers.DateField(required=False, help_text=gettext_lazy("Default: today."))
    reason = serializers.CharField(required=False, allow_blank=True, default="")


@extend_schema(
    methods=["POST"],
    summary=gettext_lazy("Set up a care service for a resident"),
    description=gettext_lazy(
        "`resident` (an id inside the caller's jurisdiction; 404 outside), `kind`, "
        "`weekdays`, `time` (HH:MM), `start` and optionally `end`, `keeper` (a username "
        "whose role and place cover the resident), `destination`, `vehicle`, `escort`, "
        "`note`. 201 with the service."
    ),
    request=CareServiceCreateSerializer,
    responses={201: CareServiceSerializer, **WRITE_ERRORS},
)
@extend_schema(
    methods=["GET"],
    summary=gettext_lazy("The day's care services of a region"),
    description=gettext_lazy(
        "Each occurrence due on `day` (default today) with its state: done, due or missed."
    ),
    parameters=[
        OpenApiParameter("region", str, description=gettext_lazy("A region path.")),
        OpenApiParameter("day", OpenApiTypes.DATE),
    ],
    responses={200: CareOccurrenceSerializer(many=True), **ERRORS, 400: ErrorSerializer},
)
class CareServiceList(ApiView):
    def post(self, request) -> Response:
        policy_for(request.user).require(Action.MANAGE_ISOLATION)
        body = CareServiceCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        v = body.validated_data
        resident = access_by_id(
            Resident.objects.select_related("household__building"), request.user, v["resident"]
        )
        keeper = _keeper(v["keeper"]) if v["keeper"].strip() else None
        service = care.service_create(
            resident=resident,
            kind=v["kind"],
            weekdays=v["weekdays"],
            time=v["time"],
            destination=v["destination"],
            vehicle=v["vehicle"],
            escort=v["escort"],
            keeper=keeper,
            start=v["start"],
            end=v["end"],
            note=v["note"],
            actor=request.user,
            ip=client_ip(request),
        )
        return Response(CareServiceSerializer(service).data, status=201)

    def get(self, request) -> Response:
        region = self.requested_region() or self.jurisdiction()
        text = request.query_params.get("day", "").strip()
        try:
            day = dt.date.fromisoformat(text) if text else timezone.localdate()
        except ValueError:
            raise exceptions.ParseError(_("The day is a date, e.g. 2026-04-05.")) from None
        rows = care.schedule(care.services_for(request.user, region), day, timezone.now())
        page = self.paginator.paginate_queryset(rows, request, view=self)  # type: ignore[union-attr]
        return self.paginator.get_paginated_response(  # type: ignore[union-attr]
            CareOccurrenceSerializer(page, many=True).data
        )

    @property
    def paginator(self):
        if not hasattr(self, "_paginator"):
            self._paginator = self.pagination_class()
        return self._paginator


@extend_schema(
    summary=gettext_lazy("Record a care service occurrence as done"),
    request=CareRecordCreateSerializer,
    responses={201: CareRecordSerializer, **WRITE_ERRORS},
)
class CareServiceRecord(ApiView):
    def post(self, request, pk: int) -> Response:
        body = CareRecordCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        service = access_by_id(care.services_for(request.user), request.user, pk)
        record = care.care_record(
            service=service,
            due=body.validated_data["due"],
            note=body.validated_data["note"],
            actor=request.user,
            ip=client_ip(request),
        )
        return Response(CareRecordSerializer(record).data, status=201)


@extend_schema(
    summary=gettext_lazy("End a care service"),
    description=gettext_lazy(
        "`end`: the service's last day (default today), `reason`. 400 before its start or "
        "before a trip already done; 409 when it already ends on or before that day."
    ),
    request=CareServiceEndSerializer,
    responses={200: CareServiceSerializer, **WRITE_ERRORS},
)
class CareServiceEnd(ApiView):
    def post(self, request, pk: int) -> Response:
        body = CareServiceEndSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        service = access_by_id(care.services_for(request.user), request.user, pk)
        care.service_end(
            service=service,
            end=body.validated_data.get("end") or timezone.localdate(),
            reason=body.validated_data["reason"],
            actor=request.user,
            ip=client_ip(request),
        )
        return Response(CareServiceSerializer(service).data)

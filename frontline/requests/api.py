"""The requests API (pinned in issue 7): create, read, list, and one route per step."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response

from frontline.accounts.models import User
from frontline.accounts.policy import Action, policy_for
from frontline.api.serializers import BuiltOnceFields
from frontline.api.views import ERRORS, ApiView, ErrorSerializer
from frontline.audit.models import AuditAction
from frontline.audit.services import audit_record, client_ip
from frontline.core.access import access_by_id
from frontline.core.errors import PermissionDenied
from frontline.people.models import Household, Resident

from . import services
from .models import STATUS_CHINESE, Category, Channel, Request, Status, Urgency
from .queries import dispatch_suggestions, request_for, requests_for, with_history

STEP_ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 409: ErrorSerializer, **ERRORS}


def chinese_label(status: str) -> str:
    """`status_label` is Chinese whatever the caller's language: the pinned API says so."""
    return STATUS_CHINESE[status]


class HistorySerializer(serializers.Serializer):
    status = serializers.CharField(source="to_status")
    step = serializers.CharField()
    by = serializers.CharField(source="actor_name")
    at = serializers.DateTimeField()
    note = serializers.CharField()


class RequestSerializer(BuiltOnceFields, serializers.ModelSerializer):
    status_label = serializers.SerializerMethodField()
    assignee = serializers.SerializerMethodField()
    address = serializers.CharField(source="household.address", read_only=True)
    overdue = serializers.SerializerMethodField()
    duplicate_of = serializers.SerializerMethodField()

    class Meta:
        model = Request
        fields = [
            "id",
            "number",
            "status",
            "status_label",
            "category",
            "urgency",
            "channel",
            "description",
            "household",
            "address",
            "resident",
            "assignee",
            "overdue",
            "duplicate_of",
            "created_at",
            "dispatch_due",
            "close_due",
            "closed_at",
            "satisfaction",
        ]
        read_only_fields = fields

    def get_status_label(self, obj: Request) -> str:
        return chinese_label(obj.status)

    def get_assignee(self, obj: Request) -> str | None:
        return obj.assignee.username if obj.assignee_id else None

    def get_overdue(self, obj: Request) -> bool:
        return obj.overdue

    def get_duplicate_of(self, obj: Request) -> str | None:
        return obj.duplicate_of.number if obj.duplicate_of_id else None


class PhotoSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    step = serializers.CharField(help_text=gettext_lazy("receive or report"))
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    url = serializers.SerializerMethodField()

    def get_url(self, obj) -> str:
        return reverse("api:request-photo", args=[obj.request_id, obj.pk])


# What RequestSerializer reads, and the relations it follows (which must be loaded too).
LIST_COLUMNS = (
    "number",
    "status",
    "category",
    "urgency",
    "channel",
    "description",
    "household",
    "resident",
    "assignee",
    "duplicate_of",
    "created_at",
    "dispatch_due",
    "close_due",
    "closed_at",
    "satisfaction",
    "household__unit",
    "household__room",
    "household__building",
    "household__building__path",
    "assignee__username",
    "duplicate_of__number",
)


# The answers below are built directly, field for field what RequestSerializer and
# RequestDetailSerializer render (tests/test_requests_api.py compares them on requests in
# every state): DRF's field machinery cost ~2 ms of the ~14 ms a page of 20 took, on the
# calls a phone makes most. The serializers stay the schema (OpenAPI) and the reference.
_WHEN = serializers.DateTimeField()  # DRF's own rendering of a datetime (ISO 8601, local)


def _when(value: Any) -> str | None:
    return _WHEN.to_representation(value) if value is not None else None


def request_row(r: Request, now: dt.datetime) -> dict[str, Any]:
    """One request as RequestSerializer renders it; `now` decides `overdue`."""
    return {
        "id": r.pk,
        "number": r.number,
        "status": r.status,
        "status_label": chinese_label(r.status),
        "category": r.category,
        "urgency": r.urgency,
        "channel": r.channel,
        "description": r.description,
        "household": r.household_id,
        "address": r.household.address,
        "resident": r.resident_id,
        "assignee": r.assignee.username if r.assignee_id else None,
        "overdue": r.is_overdue(now),
        "duplicate_of": r.duplicate_of.number if r.duplicate_of_id else None,
        "created_at": _when(r.created_at),
        "dispatch_due": _when(r.dispatch_due),
        "close_due": _when(r.close_due),
        "closed_at": _when(r.closed_at),
        "satisfaction": r.satisfaction,
    }


def request_detail(r: Request) -> dict[str, Any]:
    """One request with its history and photos, as RequestDetailSerializer renders it."""
    return {
        **request_row(r, timezone.now()),
        "history": [
            {
                "status": e.to_status,
                "step": e.step,
                "by": e.actor_name,
                "at": _when(e.at),
                "note": e.note,
            }
            for e in r.events.all()
        ],
        "photos": [
            {
                "id": p.pk,
                "step": p.step,
                "content_type": p.content_type,
                "size": p.size,
                "url": reverse("api:request-photo", args=[p.request_id, p.pk]),
            }
            for p in r.photos.all()
        ],
    }


class RequestDetailSerializer(RequestSerializer):
    history = HistorySerializer(source="events", many=True, read_only=True)
    photos = PhotoSerializer(many=True, read_only=True)

    class Meta(RequestSerializer.Meta):
        fields = [*RequestSerializer.Meta.fields, "history", "photos"]
        read_only_fields = fields


class RequestCreateSerializer(serializers.Serializer):
    household = serializers.IntegerField()
    resident = serializers.IntegerField(required=False, allow_null=True)
    category = serializers.ChoiceField(choices=Category.choices)
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.NORMAL)
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.GRID_WORKER)
    description = serializers.CharField(max_length=services.DESCRIPTION_MAX)
    photos = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        help_text=gettext_lazy("Photos (multipart/form-data): JPEG, PNG or WebP."),
    )


class StepSerializer(serializers.Serializer):
    assignee = serializers.CharField(required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    satisfaction = serializers.IntegerField(required=False)
    photos = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        help_text=gettext_lazy("With report, as multipart/form-data: JPEG, PNG or WebP."),
    )


@extend_schema(
    summary=gettext_lazy("Requests (诉求) in the caller's jurisdiction, and registering one"),
    parameters=[
        OpenApiParameter("region", str, description=gettext_lazy("A region path.")),
        OpenApiParameter(
            "status",
            str,
            enum=["open", *Status.values],
            description=gettext_lazy("Only this status; `open` for every open one."),
        ),
        OpenApiParameter("overdue", bool, description=gettext_lazy("Only overdue ones.")),
        OpenApiParameter(
            "assignee",
            str,
            description=gettext_lazy("Only those assigned to this username; `me` for mine."),
        ),
        OpenApiParameter(
            "Idempotency-Key",
            str,
            location=OpenApiParameter.HEADER,
            description=gettext_lazy(
                "On POST: the same key again returns the first request instead of a second."
            ),
        ),
    ],
    request=RequestCreateSerializer,
    responses={200: RequestSerializer(many=True), 201: RequestDetailSerializer, **STEP_ERRORS},
)
class RequestList(ApiView, ListAPIView):
    serializer_class = RequestSerializer

    def list(self, request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset()) or []
        now = timezone.now()
        return self.get_paginated_response([request_row(r, now) for r in page])

    def get_queryset(self):
        region = self.requested_region()
        status = self.request.query_params.get("status", "").strip()
        requests = requests_for(
            self.request.user,
            region=region,
            status=status,
            overdue=bool(self.bool_param("overdue")),
        )
        assignee = self.request.query_params.get("assignee", "").strip()
        if assignee:
            # `me` is the phone's "my tasks"; another username narrows a dispatcher's list.
            if assignee == "me":
                requests = requests.filter(assignee_id=self.request.user.pk)
            else:
                requests = requests.filter(assignee__username=assignee)
        # Only the columns the list shows: a page of 20 joined the whole request it may
        # duplicate, and the household, building and account rows whole, ~90 columns a row
        # decoded into five model objects for the dozen values the serializer reads.
        requests = requests.only(*LIST_COLUMNS)
        audit_record(
            actor=self.request.user,
            action=AuditAction.SEARCH,
            object_type="request",
            region=region or self.jurisdiction(),
            detail={"channel": "api", "status": status},
            ip=client_ip(self.request),
        )
        return requests

    def post(self, request, *args, **kwargs) -> Response:
        data = RequestCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        household = access_by_id(
            Household.objects.select_related("building"),
            request.user,
            data.validated_data["household"],
        )
        resident = None
        if data.validated_data.get("resident"):
            resident = access_by_id(
                Resident.objects.all(), request.user, data.validated_data["resident"]
            )
        created = services.request_create(
            actor=request.user,
            household=household,
            resident=resident,
            category=data.validated_data["category"],
            urgency=data.validated_data["urgency"],
            channel=data.validated_data["channel"],
            description=data.validated_data["description"],
            idempotency_key=request.headers.get("Idempotency-Key", ""),
            ip=client_ip(request),
            photos=_photos(request),
        )
        replayed = getattr(created, "replayed", False)
        if replayed:
            # The first request may have moved on (or away) since: read it as it is now.
            shown = request_for(
                request.user, created.pk, channel="api", ip=client_ip(request), audit=False
            )
        else:
            # Just written, with its household, resident and duplicate link in hand: only
            # its history is read back (the creation was audited by the service).
            shown = with_history(created)
        response = Response(request_detail(shown), status=201)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response


@extend_schema(
    summary=gettext_lazy("One request with its full history"),
    responses={200: RequestDetailSerializer, **ERRORS},
)
class RequestDetail(ApiView):
    def get(self, request, pk: int) -> Response:
        shown = request_for(request.user, pk, channel="api", ip=client_ip(request))
        return Response(request_detail(shown))


def _photos(request) -> list:
    # Files come as multipart/form-data; a JSON body has none.
    return request.FILES.getlist("photos") if hasattr(request, "FILES") else []


def _assignee(username: str) -> User:
    user = (
        User.objects.select_related("region")  # the policy asks for it: may they take it?
        .filter(username=(username or "").strip(), is_active=True)
        .first()
    )
    if user is None:
        # Worded like an account outside the place: usernames cannot be probed.
        raise PermissionDenied(
            _("%(name)s cannot take this request: their role or their place does not cover it.")
            % {"name": username}
        )
    return user


@extend_schema(
    summary=gettext_lazy("Move a request one step"),
    description=gettext_lazy(
        "dispatch (assignee: a username), deliver, report (note), close (satisfaction 1-5, "
        "note), cancel (reason), return (reason). 409 when the step is not allowed from the "
        "request's state (or someone else moved it first), 403 when this account may not."
    ),
    request=StepSerializer,
    responses={200: RequestDetailSerializer, **STEP_ERRORS},
)
class RequestStep(ApiView):
    step = ""

    def post(self, request, pk: int) -> Response:
        data = StepSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        ip = client_ip(request)
        # Everything the answer shows comes with the request, so that after the step only
        # its history is read again.
        target = access_by_id(
            Request.objects.select_related("household__building", "assignee", "duplicate_of"),
            request.user,
            pk,
        )
        actor = request.user
        if self.step == "dispatch":
            services.request_dispatch(
                request=target,
                assignee=_assignee(v.get("assignee", "")),
                actor=actor,
                note=v["note"],
                ip=ip,
            )
        elif self.step == "deliver":
            services.request_deliver(request=target, actor=actor, note=v["note"], ip=ip)
        elif self.step == "report":
            services.request_report(
                request=target, actor=actor, note=v["note"], photos=_photos(request), ip=ip
            )
        elif self.step == "close":
            services.request_close(
                request=target,
                actor=actor,
                satisfaction=v.get("satisfaction", 0),
                note=v["note"],
                ip=ip,
            )
        elif self.step == "cancel":
            services.request_cancel(request=target, actor=actor, reason=v["reason"], ip=ip)
        elif self.step == "return":
            services.request_return(request=target, actor=actor, reason=v["reason"], ip=ip)
        # The answer is the request as the step left it. Not audited as a read: the step
        # itself was, by the service, in the same transaction as the change.
        return Response(request_detail(with_history(target)))


class SuggestionSerializer(serializers.Serializer):
    username = serializers.CharField(allow_null=True, help_text=gettext_lazy("null: no account"))
    name = serializers.CharField()
    source = serializers.ChoiceField(choices=["duty", "grid", "place"])
    roles = serializers.ListField(child=serializers.CharField())
    role_labels = serializers.ListField(child=serializers.CharField())
    on_shift = serializers.BooleanField()
    open_requests = serializers.IntegerField()
    can_take = serializers.BooleanField()
    why_not = serializers.CharField()


class SuggestionsSerializer(serializers.Serializer):
    results = SuggestionSerializer(many=True)
    others = SuggestionSerializer(many=True)


def _suggestion(s) -> dict:
    return {
        "username": s.username or None,
        "name": s.name,
        "source": s.source,
        "roles": list(s.roles),
        "role_labels": s.role_labels,
        "on_shift": s.on_shift,
        "open_requests": s.open_requests,
        "can_take": s.can_take,
        "why_not": s.why_not,
    }


@extend_schema(
    summary=gettext_lazy("Who to dispatch a request to"),
    description=gettext_lazy(
        "`results`: people who may take it, those on duty at the compound with the matching "
        "role first, then the grid's workers and the accounts working there, fewest open "
        "requests first. `others`: people known there who cannot be dispatched to (no "
        "account, or an account that does not cover the request), with the reason."
    ),
    responses={200: SuggestionsSerializer, **STEP_ERRORS},
)
class RequestSuggestions(ApiView):
    def get(self, request, pk: int) -> Response:
        target = access_by_id(
            Request.objects.select_related("household__building"), request.user, pk
        )
        policy_for(request.user).require(Action.DISPATCH_REQUEST, target)
        found = dispatch_suggestions(request.user, target)
        return Response(
            {
                "results": [_suggestion(s) for s in found.people],
                "others": [_suggestion(s) for s in found.others],
            }
        )


@extend_schema(
    summary=gettext_lazy("One photo of a request"),
    responses={(200, "image/*"): bytes, **ERRORS},
)
class RequestPhotoFile(ApiView):
    def get(self, request, pk: int, photo: int):
        from .photos import photo_for
        from .views import photo_response

        return photo_response(photo_for(request.user, pk, photo))

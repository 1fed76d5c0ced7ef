"""The duty roster's API: posts, shifts, gaps, check-in and check-out.

Posts and shifts are confined like every list (`visible_to`, `access_by_id`): a post
outside the caller's jurisdiction is a 404. Times are ISO 8601 with an offset; a time
without one is refused (400) rather than guessed. A shift that overlaps another of the
same person is a 409 and writes nothing.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from frontline.accounts.models import User
from frontline.accounts.policy import Action, policy_for
from frontline.api.serializers import MaskedIdNumberField, MaskedPhoneField
from frontline.api.views import ERRORS, REGION_PARAM, ApiView, ErrorSerializer, exception_handler
from frontline.audit.models import AuditAction
from frontline.audit.services import audit_record, client_ip
from frontline.core.access import access_by_id
from frontline.core.errors import NotFound

from . import roster
from .models import Deployment, Post, Shift
from .roster import ShiftOverlap


def duty_exception_handler(exc, context):
    if isinstance(exc, ShiftOverlap):
        return Response({"detail": exc.message, "code": "overlap"}, status=409)
    return exception_handler(exc, context)


class DutyApiView(ApiView):
    def get_exception_handler(self):
        return duty_exception_handler


def parse_time(value: str, name: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise exceptions.ParseError(
            _("“%(name)s” is an ISO 8601 time with an offset, e.g. 2026-04-04T20:00:00+08:00.")
            % {"name": name}
        )
    return parsed


class PostSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="region.display_path", read_only=True)

    class Meta:
        model = Post
        fields = ["id", "region", "name", "kind"]
        read_only_fields = fields


class PostCreateSerializer(serializers.Serializer):
    region = serializers.CharField(help_text=gettext_lazy("A region path."))
    name = serializers.CharField(max_length=64)
    kind = serializers.ChoiceField(choices=Post.Kind.choices)


class ShiftSerializer(serializers.ModelSerializer):
    person = serializers.CharField(source="person.username", read_only=True)

    class Meta:
        model = Shift
        fields = ["id", "post", "person", "start", "end", "checked_in_at", "checked_out_at"]
        read_only_fields = fields


class ShiftCreateSerializer(serializers.Serializer):
    post = serializers.IntegerField()
    person = serializers.CharField(help_text=gettext_lazy("A username."))
    start = serializers.CharField(help_text=gettext_lazy("ISO 8601 with offset."))
    end = serializers.CharField(help_text=gettext_lazy("ISO 8601 with offset."))


class GapSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


WRITE_ERRORS = {**ERRORS, 400: ErrorSerializer, 403: ErrorSerializer}


@extend_schema(
    summary=gettext_lazy("Duty posts"),
    description=gettext_lazy(
        "GET: the posts in the caller's jurisdiction (under `region` if given). POST: "
        "create a post (`region` a path, `name`, `kind`: checkpoint, duty, patrol or "
        "service); 201 with its `id`."
    ),
    parameters=[REGION_PARAM],
    request=PostCreateSerializer,
    responses={200: PostSerializer(many=True), 201: PostSerializer, **WRITE_ERRORS},
)
class PostList(DutyApiView, ListAPIView):
    serializer_class = PostSerializer

    def get_queryset(self):
        return roster.posts_for(self.request.user, self.requested_region())

    def post(self, request: Request) -> Response:
        body = PostCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        policy_for(request.user).require(Action.MANAGE_DUTY)
        region = policy_for(request.user).region_by_path(body.validated_data["region"])
        post = roster.post_create(
            region=region,
            name=body.validated_data["name"],
            kind=body.validated_data["kind"],
            actor=request.user,
        )
        return Response(PostSerializer(post).data, status=201)


@extend_schema(
    methods=["GET"],
    summary=gettext_lazy("Shifts"),
    description=gettext_lazy(
        "The shifts in the caller's jurisdiction that overlap [from, to) (both ISO 8601 "
        "with an offset; at most 31 days), of one post if `post` is given, in order."
    ),
    parameters=[
        OpenApiParameter("post", int),
        OpenApiParameter("from", OpenApiTypes.DATETIME, required=True),
        OpenApiParameter("to", OpenApiTypes.DATETIME, required=True),
    ],
    responses={200: ShiftSerializer(many=True), **ERRORS, 400: ErrorSerializer},
)
@extend_schema(
    methods=["POST"],
    summary=gettext_lazy("Put a person on a shift"),
    description=gettext_lazy(
        "`post` (an id), `person` (a username), `start` and `end` (ISO 8601 with an "
        "offset). 409 when the person is on another shift at that time (nothing is "
        "written); 400 when `end` is not after `start`."
    ),
    request=ShiftCreateSerializer,
    responses={201: ShiftSerializer, 409: ErrorSerializer, **WRITE_ERRORS},
)
class ShiftList(DutyApiView, ListAPIView):
    serializer_class = ShiftSerializer

    def get_queryset(self):
        params = self.request.query_params
        start = parse_time(params.get("from", ""), "from")
        end = parse_time(params.get("to", ""), "to")
        roster.check_window(start, end)
        shifts = Shift.objects.visible_to(self.request.user).filter(start__lt=end, end__gt=start)
        if (post_id := self.int_param("post")) is not None:
            post = access_by_id(Post.objects.all(), self.request.user, post_id)
            shifts = shifts.filter(post=post)
        return shifts.select_related("person").order_by("start", "id")

    def post(self, request: Request) -> Response:
        body = ShiftCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        policy_for(request.user).require(Action.MANAGE_DUTY)
        start, end = parse_time(data["start"], "start"), parse_time(data["end"], "end")
        post = access_by_id(Post.objects.select_related("region"), request.user, data["post"])
        person = User.objects.filter(username=data["person"]).first()
        if person is None:
            raise NotFound(_("No such person."))
        shift = roster.shift_create(
            post=post, person=person, start=start, end=end, actor=request.user
        )
        return Response(ShiftSerializer(shift).data, status=201)


@extend_schema(
    summary=gettext_lazy("Uncovered intervals of a post"),
    description=gettext_lazy(
        "The intervals of [from, to) when nobody is on duty at the post, merged and in "
        "order, as a list of {start, end}."
    ),
    parameters=[
        OpenApiParameter("from", OpenApiTypes.DATETIME, required=True),
        OpenApiParameter("to", OpenApiTypes.DATETIME, required=True),
    ],
    responses={200: GapSerializer(many=True), **ERRORS, 400: ErrorSerializer},
)
class PostGaps(DutyApiView):
    def get(self, request: Request, pk: int) -> Response:
        post = access_by_id(Post.objects.all(), request.user, pk)
        start = parse_time(request.query_params.get("from", ""), "from")
        end = parse_time(request.query_params.get("to", ""), "to")
        gaps = roster.post_gaps(post, start, end)
        return Response(GapSerializer(gaps, many=True).data)


class _ShiftAction(DutyApiView):
    action_function = staticmethod(roster.shift_check_in)

    def post(self, request: Request, pk: int) -> Response:
        shift = roster.shift_for_person(request.user, pk)
        shift = self.action_function(shift=shift, actor=request.user)
        return Response(ShiftSerializer(shift).data)


@extend_schema(
    summary=gettext_lazy("Check in to one's own shift"),
    request=None,
    responses={200: ShiftSerializer, **WRITE_ERRORS},
)
class ShiftCheckIn(_ShiftAction):
    action_function = staticmethod(roster.shift_check_in)


@extend_schema(
    summary=gettext_lazy("Check out of one's own shift"),
    request=None,
    responses={200: ShiftSerializer, **WRITE_ERRORS},
)
class ShiftCheckOut(_ShiftAction):
    action_function = staticmethod(roster.shift_check_out)


class CadreSerializer(serializers.Serializer):
    name = serializers.CharField()
    unit = serializers.CharField(source="org_unit.name")
    rank = serializers.CharField()
    is_party_member = serializers.BooleanField()
    id_number = MaskedIdNumberField()
    phone = MaskedPhoneField()


class DeploymentSerializer(serializers.ModelSerializer):
    cadre = CadreSerializer(read_only=True)
    region = serializers.CharField(source="region.display_path", read_only=True)

    class Meta:
        model = Deployment
        fields = ["id", "cadre", "region", "role", "task_force", "chain_level", "start", "end"]
        read_only_fields = fields


@extend_schema(
    summary=gettext_lazy("Deployed cadres"),
    description=gettext_lazy(
        "Deployments (下沉) in the caller's jurisdiction, under `region` if given: the cadre "
        "(ID number and phone masked as the caller's role requires), the place, the role "
        "and the period."
    ),
    parameters=[REGION_PARAM],
    responses={200: DeploymentSerializer(many=True), **ERRORS},
)
class DeploymentList(DutyApiView, ListAPIView):
    serializer_class = DeploymentSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            # The schema generator asks for a queryset: it is nobody's read of anybody.
            return Deployment.objects.none()
        deployments = Deployment.objects.visible_to(self.request.user)
        if (region := self.requested_region()) is not None:
            deployments = deployments.within(region)
        # Cadres' identifiers are personal data like residents': one trace per list read.
        audit_record(
            actor=self.request.user,
            action=AuditAction.SEARCH,
            object_type="cadre",
            region=region or policy_for(self.request.user).jurisdiction,
            detail={"list": "deployments", "channel": "api"},
            ip=client_ip(self.request),
        )
        return deployments.select_related("cadre__org_unit", "region").order_by("id")

"""The supervision API (督查): inspections (list, record with problems, one), problems (list
with `?region=&status=&overdue=`, one with its history), and one POST route per step.

Confined to the caller's jurisdiction like every list; one object outside is a 404. Times
are ISO 8601 with an offset. A refused step is 403 (the role) or 409 (the state).
"""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q
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
from frontline.api.views import ERRORS, REGION_PARAM, ApiView, ErrorSerializer, parse_moment
from frontline.audit.services import client_ip
from frontline.core.access import access_by_id
from frontline.core.errors import DomainError

from . import queries, services
from .models import Category, Inspection, Kind, Problem, Severity, Status

WRITE_ERRORS = {**ERRORS, 400: ErrorSerializer, 403: ErrorSerializer, 409: ErrorSerializer}


class ProblemSerializer(serializers.ModelSerializer):
    place = serializers.CharField(source="place.display_path", read_only=True)
    category_label = serializers.CharField(source="get_category_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Problem
        fields = [
            "id",
            "inspection",
            "place",
            "category",
            "category_label",
            "severity",
            "description",
            "rectify_by",
            "status",
            "status_label",
            "overdue",
            "notified_at",
            "reported_at",
            "verified_at",
        ]
        read_only_fields = fields

    def get_overdue(self, problem: Problem) -> bool:
        return problem.is_overdue()


class ProblemEventSerializer(serializers.Serializer):
    step = serializers.CharField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    by = serializers.CharField(source="actor_name")
    at = serializers.DateTimeField()
    note = serializers.CharField()


class ProblemDetailSerializer(ProblemSerializer):
    history = ProblemEventSerializer(many=True, source="events", read_only=True)

    class Meta(ProblemSerializer.Meta):
        fields = [*ProblemSerializer.Meta.fields, "history"]
        read_only_fields = fields


class InspectionSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="region.display_path", read_only=True)
    supplier = serializers.CharField(source="supplier.name", read_only=True, allow_null=True)
    problems = serializers.IntegerField(source="problem_count", read_only=True)

    class Meta:
        model = Inspection
        fields = ["id", "region", "kind", "supplier", "date", "team", "summary", "problems"]
        read_only_fields = fields


class InspectionDetailSerializer(InspectionSerializer):
    problems = ProblemSerializer(many=True, read_only=True)  # type: ignore[assignment]
    inspectors = serializers.SlugRelatedField(many=True, read_only=True, slug_field="username")

    class Meta(InspectionSerializer.Meta):
        fields = [*InspectionSerializer.Meta.fields, "inspectors"]
        read_only_fields = fields


class ProblemInputSerializer(serializers.Serializer):
    place = serializers.CharField(
        required=False, allow_blank=True, help_text=gettext_lazy("A region path.")
    )
    category = serializers.ChoiceField(choices=Category.values)
    severity = serializers.ChoiceField(choices=Severity.values, default=Severity.NORMAL)
    description = serializers.CharField(max_length=services.TEXT_MAX)
    rectify_by = serializers.CharField(help_text=gettext_lazy("ISO 8601 with offset."))


class InspectionCreateSerializer(serializers.Serializer):
    region = serializers.CharField(help_text=gettext_lazy("A region path."))
    kind = serializers.ChoiceField(choices=Kind.values)
    date = serializers.DateField()
    supplier = serializers.IntegerField(required=False, allow_null=True)
    team = serializers.CharField(required=False, allow_blank=True, max_length=services.TEAM_MAX)
    summary = serializers.CharField(required=False, allow_blank=True, max_length=services.TEXT_MAX)
    inspectors = serializers.ListField(child=serializers.CharField(), required=False)
    problems = ProblemInputSerializer(many=True, required=False)


class ProblemStepSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=1000,
        help_text=gettext_lazy("The reason to reject or withdraw (`note` is accepted too)."),
    )


@extend_schema(
    methods=["GET"],
    summary=gettext_lazy("Inspections in the caller's jurisdiction"),
    parameters=[REGION_PARAM],
    responses={200: InspectionSerializer(many=True), **ERRORS, 403: ErrorSerializer},
)
@extend_schema(
    methods=["POST"],
    summary=gettext_lazy("Record an inspection and notify its problems"),
    description=gettext_lazy(
        "`region` (a path, a district or below), `kind` (unannounced, routine, market), "
        "`date`, optional `supplier` (an id, market inspections), `team`, `summary`, "
        "`inspectors` (usernames), `problems` (each `place` path inside the region, "
        "`category`, `severity`, `description`, `rectify_by` ISO 8601 with an offset)."
    ),
    request=InspectionCreateSerializer,
    responses={201: InspectionDetailSerializer, **WRITE_ERRORS},
)
class InspectionList(ApiView, ListAPIView):
    serializer_class = InspectionSerializer

    def get_queryset(self):
        queries.require_supervision(self.request.user)
        region = self.requested_region() or self.jurisdiction()
        inside = Problem.objects.within(region).values("pk")
        return (
            queries.inspections_for(self.request.user)
            .touching(region)
            .annotate(problem_count=Count("problems", filter=Q(problems__in=inside)))
            .order_by("-date", "-id")
        )

    def post(self, request: Request) -> Response:
        queries.require_supervision(request.user)
        body = InspectionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        policy = policy_for(request.user)
        policy.require(Action.INSPECT)
        region = policy.region_by_path(data["region"])
        supplier = None
        if data.get("supplier"):
            supplier = {s.pk: s for s in queries.supplier_choices(request.user)}.get(
                data["supplier"]
            )
            if supplier is None:
                raise DomainError(_("No such supplier."))
        allowed = {u.username: u for u in queries.inspector_choices(request.user)}
        inspectors = []
        for name in data.get("inspectors", []):
            if name not in allowed:
                raise DomainError(_("No inspector “%(name)s” here.") % {"name": name})
            inspectors.append(allowed[name])
        problems = [
            {
                "place": policy.region_by_path(p["place"]) if p.get("place") else region,
                "category": p["category"],
                "severity": p["severity"],
                "description": p["description"],
                "rectify_by": parse_moment(p["rectify_by"], "rectify_by"),
            }
            for p in data.get("problems", [])
        ]
        inspection = services.inspection_create(
            region=region,
            kind=data["kind"],
            date=data["date"],
            supplier=supplier,
            team=data.get("team", ""),
            summary=data.get("summary", ""),
            inspectors=inspectors or [request.user],
            problems=problems,
            actor=request.user,
            ip=client_ip(request),
        )
        return Response(
            InspectionDetailSerializer(_inspection(request.user, inspection.pk)).data, status=201
        )


def _inspection(user: User, pk: int) -> Inspection:
    # Only the problems inside the caller's jurisdiction.
    problems = Prefetch("problems", queryset=queries.problems_for(user).order_by("id"))
    return access_by_id(
        queries.inspections_for(user).prefetch_related(problems, "inspectors"), user, pk
    )


@extend_schema(
    summary=gettext_lazy("One inspection with its problems"),
    responses={200: InspectionDetailSerializer, **ERRORS, 403: ErrorSerializer},
)
class InspectionDetail(ApiView):
    def get(self, request: Request, pk: int) -> Response:
        queries.require_supervision(request.user)
        return Response(InspectionDetailSerializer(_inspection(request.user, pk)).data)


@extend_schema(
    summary=gettext_lazy("Inspection problems in the caller's jurisdiction"),
    parameters=[
        REGION_PARAM,
        OpenApiParameter("status", OpenApiTypes.STR, enum=Status.values),
        OpenApiParameter("overdue", OpenApiTypes.BOOL),
    ],
    responses={200: ProblemSerializer(many=True), **ERRORS, 400: ErrorSerializer},
)
class ProblemList(ApiView, ListAPIView):
    serializer_class = ProblemSerializer

    def get_queryset(self):
        queries.require_supervision(self.request.user)
        region = self.requested_region() or self.jurisdiction()
        status = self.request.query_params.get("status", "").strip()
        if status and status not in Status.values:
            raise exceptions.ParseError(
                _("“status” is one of: %(choices)s.") % {"choices": ", ".join(Status.values)}
            )
        return queries.filter_problems(
            queries.problems_for(self.request.user),
            region=region,
            status=status,
            overdue=self.bool_param("overdue"),
        ).order_by("rectify_by", "id")


@extend_schema(
    summary=gettext_lazy("One inspection problem with its history"),
    responses={200: ProblemDetailSerializer, **ERRORS, 403: ErrorSerializer},
)
class ProblemDetail(ApiView):
    def get(self, request: Request, pk: int) -> Response:
        queries.require_supervision(request.user)
        problem = access_by_id(
            queries.problems_for(request.user).prefetch_related("events"), request.user, pk
        )
        return Response(ProblemDetailSerializer(problem).data)


@extend_schema(
    summary=gettext_lazy("Move an inspection problem one step"),
    description=gettext_lazy(
        "acknowledge, report (a `note` saying what was done is required), verify, reject "
        "and withdraw (a `reason` is required; `note` is accepted for it too). 403 when the "
        "role may not or the caller is on the other side of the separation of duties, 409 "
        "when the problem is not in a state that allows the step (nothing is changed)."
    ),
    request=ProblemStepSerializer,
    responses={200: ProblemDetailSerializer, **WRITE_ERRORS},
)
class ProblemStep(ApiView):
    step = ""

    def post(self, request: Request, pk: int) -> Response:
        queries.require_supervision(request.user)
        body = ProblemStepSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        problem = access_by_id(queries.problems_for(request.user), request.user, pk)
        services.problem_step(
            problem=problem,
            step=self.step,
            actor=request.user,
            note=(
                (body.validated_data["reason"] or body.validated_data["note"])
                if self.step in services.REASON_STEPS
                else body.validated_data["note"]
            ),
            ip=client_ip(request),
        )
        problem = access_by_id(
            queries.problems_for(request.user).prefetch_related("events"), request.user, pk
        )
        return Response(ProblemDetailSerializer(problem).data)

"""The testing rounds' API: rounds, tubes, coverage, missing residents, retests, results.

Rounds are visible when one of their regions meets the caller's jurisdiction
(`testing.round_for`: 404 otherwise); residents, tubes and figures inside a round are
confined to the jurisdiction like every list. A resident already in a tube of the round is
a 409 naming them, and nothing is written.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from frontline.accounts.policy import Action, policy_for
from frontline.api.serializers import MaskedIdNumberField
from frontline.api.views import ERRORS, REGION_PARAM, ApiView, ErrorSerializer
from frontline.audit.services import client_ip
from frontline.core.access import access_by_id

from . import testing
from .models import SamplingPoint, TestingRound, Tube, TubeResult

WRITE_ERRORS = {**ERRORS, 400: ErrorSerializer, 403: ErrorSerializer}


class RoundSerializer(serializers.ModelSerializer):
    regions = serializers.SerializerMethodField()

    class Meta:
        model = TestingRound
        fields = ["id", "name", "date", "tube_size", "regions", "closed_at"]
        read_only_fields = fields

    def get_regions(self, obj: TestingRound) -> list[str]:
        viewer = self.context["request"].user
        return [r.display_path for r in testing.round_regions_for(obj, viewer)]


class RoundCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=testing.NAME_MAX)
    date = serializers.DateField()
    regions = serializers.ListField(
        child=serializers.CharField(), allow_empty=False, help_text=gettext_lazy("Region paths.")
    )
    tube_size = serializers.IntegerField(required=False, default=testing.TUBE_SIZE_DEFAULT)


class TubeSerializer(serializers.ModelSerializer):
    residents = serializers.SerializerMethodField()
    places_left = serializers.SerializerMethodField()

    class Meta:
        model = Tube
        fields = ["id", "code", "result", "collected_at", "residents", "places_left"]
        read_only_fields = fields

    def get_residents(self, obj: Tube) -> list[int]:
        return sorted(s.resident_id for s in obj.samples.all())

    def get_places_left(self, obj: Tube) -> int:
        return max(obj.round.tube_size - len(obj.samples.all()), 0)


class TubeCreateSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=testing.CODE_MAX)
    residents = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)
    point = serializers.IntegerField(required=False, allow_null=True)


class ResidentRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    id_number = MaskedIdNumberField()
    age = serializers.IntegerField()
    household = serializers.IntegerField(source="household_id")
    address = serializers.CharField(source="household.address")


class RetestRowSerializer(ResidentRowSerializer):
    in_tube = serializers.BooleanField(
        help_text=gettext_lazy("In an abnormal tube (retest); false: a household member (control).")
    )
    tube = serializers.CharField(source="tube_code", allow_null=True)


class ResultSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=testing.CODE_MAX)
    result = serializers.ChoiceField(choices=[TubeResult.NEGATIVE, TubeResult.POSITIVE])


class _RoundView(ApiView):
    def round(self, pk: int) -> TestingRound:
        return testing.round_for(self.request.user, pk)


@extend_schema(
    methods=["GET"],
    summary=gettext_lazy("Testing rounds"),
    description=gettext_lazy(
        "The rounds one of whose regions lies inside the caller's jurisdiction or contains it."
    ),
    responses={200: RoundSerializer(many=True), **ERRORS},
)
@extend_schema(
    methods=["POST"],
    summary=gettext_lazy("Create a testing round"),
    description=gettext_lazy(
        "`name`, `date` (YYYY-MM-DD), `regions` (a list of region paths inside the caller's "
        "jurisdiction) and optionally `tube_size` (1–20, default 10); 201 with its `id`."
    ),
    request=RoundCreateSerializer,
    responses={201: RoundSerializer, **WRITE_ERRORS},
)
class RoundList(_RoundView, ListAPIView):
    serializer_class = RoundSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TestingRound.objects.none()
        return testing.rounds_visible_to(self.request.user).prefetch_related("regions__region")

    def post(self, request: Request) -> Response:
        body = RoundCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        policy = policy_for(request.user)
        policy.require(Action.MANAGE_TESTING)
        regions = [policy.region_by_path(path) for path in data["regions"]]
        created = testing.round_create(
            name=data["name"],
            date=data["date"],
            regions=regions,
            tube_size=data["tube_size"],
            actor=request.user,
        )
        return Response(RoundSerializer(created, context={"request": request}).data, status=201)


@extend_schema(summary=gettext_lazy("A testing round"), responses={200: RoundSerializer, **ERRORS})
class RoundDetail(_RoundView):
    def get(self, request: Request, pk: int) -> Response:
        return Response(RoundSerializer(self.round(pk), context={"request": request}).data)


@extend_schema(
    methods=["GET"],
    summary=gettext_lazy("Tubes of a round"),
    description=gettext_lazy("The round's tubes inside the caller's jurisdiction."),
    responses={200: TubeSerializer(many=True), **ERRORS},
)
@extend_schema(
    methods=["POST"],
    summary=gettext_lazy("Record a (pooled) tube"),
    description=gettext_lazy(
        "`code` and `residents` (resident ids): a new tube, or more residents into a tube "
        "with places left. 201; 409 naming anyone already in a tube of the round (nothing "
        "is written); 400 for more residents than the tube size or a resident outside the "
        "round's regions; 404 for a resident outside the caller's jurisdiction."
    ),
    request=TubeCreateSerializer,
    responses={201: TubeSerializer, 409: ErrorSerializer, **WRITE_ERRORS},
)
class TubeList(_RoundView, ListAPIView):
    serializer_class = TubeSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Tube.objects.none()
        found = self.round(self.kwargs["pk"])
        return (
            Tube.objects.visible_to(self.request.user)
            .filter(round=found)
            .select_related("round")
            .prefetch_related("samples")
            .order_by("code")
        )

    def post(self, request: Request, pk: int) -> Response:
        found = self.round(pk)
        body = TubeCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        point = None
        if data.get("point"):
            point = found.points.filter(pk=data["point"]).first()
            if point is None or not policy_for(request.user).contains(point):
                raise exceptions.NotFound(_("No such sampling point."))
        tube = testing.tube_record(
            round=found,
            code=data["code"],
            residents=data["residents"],
            actor=request.user,
            point=point,
        )
        tube = Tube.objects.select_related("round").prefetch_related("samples").get(pk=tube.pk)
        return Response(TubeSerializer(tube).data, status=201)


COVERAGE = inline_serializer(
    "TestingCoverage",
    {
        "round": serializers.IntegerField(),
        "region": serializers.CharField(),
        "expected": serializers.IntegerField(),
        "sampled": serializers.IntegerField(),
        "missing": serializers.IntegerField(),
    },
)


@extend_schema(
    summary=gettext_lazy("Coverage of a round"),
    description=gettext_lazy(
        "Residents expected (living in the round's regions, not away), sampled and missing, "
        "within `region` (default: the caller's jurisdiction)."
    ),
    parameters=[REGION_PARAM],
    responses={200: COVERAGE, **ERRORS},
)
class RoundCoverage(_RoundView):
    def get(self, request: Request, pk: int) -> Response:
        found = self.round(pk)
        region = self.requested_region() or self.jurisdiction()
        figures = testing.coverage(found, request.user, region)
        return Response(
            {
                "round": found.pk,
                "region": region.display_path,
                "expected": figures.expected,
                "sampled": figures.sampled,
                "missing": figures.missing,
            }
        )


@extend_schema(
    summary=gettext_lazy("Residents not yet sampled"),
    description=gettext_lazy(
        "The expected residents within `region` who are in no tube of the round yet, by "
        "building and room; paginated. ID numbers masked as the caller's role requires."
    ),
    parameters=[REGION_PARAM],
    responses={200: ResidentRowSerializer(many=True), **ERRORS},
)
class RoundMissing(_RoundView, ListAPIView):
    serializer_class = ResidentRowSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TestingRound.objects.none()
        found = self.round(self.kwargs["pk"])
        return testing.missing_residents(found, self.request.user, self.requested_region())


@extend_schema(
    summary=gettext_lazy("Retest and control list"),
    description=gettext_lazy(
        "The residents of the round's abnormal tubes (`in_tube` true, with the tube code) "
        "and the other members of their households (`in_tube` false), paginated."
    ),
    parameters=[REGION_PARAM],
    responses={200: RetestRowSerializer(many=True), **ERRORS},
)
class RoundRetest(_RoundView, ListAPIView):
    serializer_class = RetestRowSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TestingRound.objects.none()
        found = self.round(self.kwargs["pk"])
        return testing.retest_list(found, self.request.user, self.requested_region())


@extend_schema(
    summary=gettext_lazy("Enter a tube's result"),
    description=gettext_lazy("`code` and `result` (negative or positive)."),
    request=ResultSerializer,
    responses={200: TubeSerializer, **WRITE_ERRORS},
)
class RoundResult(_RoundView):
    def post(self, request: Request, pk: int) -> Response:
        found = self.round(pk)
        body = ResultSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        policy_for(request.user).require(Action.MANAGE_TESTING)
        tube = testing.tube_by_code(found, request.user, body.validated_data["code"])
        testing.result_set(tube=tube, result=body.validated_data["result"], actor=request.user)
        tube = Tube.objects.select_related("round").prefetch_related("samples").get(pk=tube.pk)
        return Response(TubeSerializer(tube).data)


# --- sampling points ------------------------------------------------------------------------


class SamplingPointSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="region.display_path", read_only=True)

    class Meta:
        model = SamplingPoint
        fields = ["id", "round", "name", "kind", "region", "opens", "closes"]
        read_only_fields = fields


class SamplingPointWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=testing.NAME_MAX)
    kind = serializers.ChoiceField(
        choices=SamplingPoint.Kind.choices, required=False, default=SamplingPoint.Kind.POINT
    )
    region = serializers.CharField(
        help_text=gettext_lazy("A region path: one of the round's places inside the jurisdiction.")
    )
    opens = serializers.TimeField(required=False, allow_null=True, default=None)
    closes = serializers.TimeField(required=False, allow_null=True, default=None)


def _point_region(request: Request, path: str):
    return policy_for(request.user).region_by_path(path)


@extend_schema(
    methods=["GET"],
    summary=gettext_lazy("Sampling points of a round"),
    description=gettext_lazy("The round's sampling points inside the caller's jurisdiction."),
    responses={200: SamplingPointSerializer(many=True), **ERRORS},
)
@extend_schema(
    methods=["POST"],
    summary=gettext_lazy("Add a sampling point to a round"),
    description=gettext_lazy(
        "`name`, `kind` (point or door, default point), `region` (a path of the round's "
        "places inside the caller's jurisdiction; 404 outside) and optionally `opens` and "
        "`closes` (HH:MM, both or neither). 201 with the point; 400 for a place outside the "
        "round's regions or a closed round."
    ),
    request=SamplingPointWriteSerializer,
    responses={201: SamplingPointSerializer, **WRITE_ERRORS},
)
class RoundPoints(_RoundView, ListAPIView):
    serializer_class = SamplingPointSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SamplingPoint.objects.none()
        return testing.points_for(self.round(self.kwargs["pk"]), self.request.user)

    def post(self, request: Request, pk: int) -> Response:
        found = self.round(pk)
        body = SamplingPointWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        policy_for(request.user).require(Action.MANAGE_TESTING)
        point = testing.point_create(
            round=found,
            region=_point_region(request, data["region"]),
            name=data["name"],
            kind=data["kind"],
            opens=data["opens"],
            closes=data["closes"],
            actor=request.user,
            ip=client_ip(request),
        )
        return Response(SamplingPointSerializer(point).data, status=201)


@extend_schema(
    methods=["GET"],
    summary=gettext_lazy("A sampling point"),
    responses={200: SamplingPointSerializer, **ERRORS},
)
@extend_schema(
    methods=["PUT"],
    summary=gettext_lazy("Change a sampling point"),
    description=gettext_lazy(
        "The whole point again: `name`, `kind`, `region` (a path), `opens`, `closes`."
    ),
    request=SamplingPointWriteSerializer,
    responses={200: SamplingPointSerializer, **WRITE_ERRORS},
)
@extend_schema(
    methods=["DELETE"],
    summary=gettext_lazy("Remove a sampling point set up by mistake"),
    description=gettext_lazy("204; 409 when tubes were recorded at it (it stays)."),
    responses={204: None, **WRITE_ERRORS},
)
class PointDetail(ApiView):
    def point(self, request: Request, pk: int) -> SamplingPoint:
        point = access_by_id(
            SamplingPoint.objects.select_related("round", "region"), request.user, pk
        )
        testing.round_for(request.user, point.round_id)
        return point

    def get(self, request: Request, pk: int) -> Response:
        return Response(SamplingPointSerializer(self.point(request, pk)).data)

    def put(self, request: Request, pk: int) -> Response:
        point = self.point(request, pk)
        body = SamplingPointWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        policy_for(request.user).require(Action.MANAGE_TESTING)
        testing.point_update(
            point=point,
            region=_point_region(request, data["region"]),
            name=data["name"],
            kind=data["kind"],
            opens=data["opens"],
            closes=data["closes"],
            actor=request.user,
            ip=client_ip(request),
        )
        return Response(SamplingPointSerializer(point).data)

    def delete(self, request: Request, pk: int) -> Response:
        point = self.point(request, pk)
        testing.point_remove(point=point, actor=request.user, ip=client_ip(request))
        return Response(status=204)

"""Read-only representations of the territory, grids, households and residents.

Identifiers are masked here, field by field, from the caller's role: the same rule as
the web pages, so that the API is never the way round the masking.
"""

from __future__ import annotations

import copy

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from frontline.accounts.policy import policy_for
from frontline.people.models import CARE_GROUP_LABELS, Household, Resident, Visit
from frontline.territory.models import Grid, GridMember, Region
from frontline.territory.queries import natural_sorted


class BuiltOnceFields:
    """A ModelSerializer mixin: the fields built from the model once per class and language,
    and copied for each use, instead of introspecting the model on every response.

    Building them costs more than serialising a page of rows (measured on the request
    list: ~3.7 ms of the ~4.3 ms its serializer took for 20 rows). What is built depends
    only on the class and the model, and on the active language for the labels and
    choices' names, so a copy of the first build is the same fields.
    """

    _built_fields: dict = {}  # (class, language) -> fields; shared, filled once per key

    def get_fields(self):
        from django.utils.translation import get_language

        key = (type(self), get_language())
        built = BuiltOnceFields._built_fields.get(key)
        if built is None:
            built = super().get_fields()  # type: ignore[misc]
            BuiltOnceFields._built_fields[key] = built
        return copy.deepcopy(built)


def _viewer(field: serializers.Field):
    request = field.context.get("request")
    return getattr(request, "user", None)


@extend_schema_field(OpenApiTypes.STR)
class MaskedIdNumberField(serializers.Field):
    """An ID number in full for the roles allowed to see it, masked for everyone else."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: str) -> str:
        return policy_for(_viewer(self)).id_number(value)


@extend_schema_field(OpenApiTypes.STR)
class MaskedPhoneField(serializers.Field):
    """A phone in full for the roles allowed to see it, masked for everyone else."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: str) -> str:
        return policy_for(_viewer(self)).phone(value)


class RegionSerializer(serializers.ModelSerializer):
    path = serializers.CharField(source="display_path", read_only=True)
    level_label = serializers.CharField(source="get_level_display", read_only=True)

    class Meta:
        model = Region
        fields = ["id", "name", "level", "level_label", "kind", "path", "parent"]
        read_only_fields = fields


class ResidentSerializer(serializers.ModelSerializer):
    id_number = MaskedIdNumberField()
    phone = MaskedPhoneField()
    emergency_phone = MaskedPhoneField()
    age = serializers.IntegerField(read_only=True)
    birth_date = serializers.SerializerMethodField()
    care_groups = serializers.SerializerMethodField()
    address = serializers.CharField(source="household.address", read_only=True)

    class Meta:
        model = Resident
        fields = [
            "id",
            "name",
            "sex",
            "birth_date",
            "age",
            "id_number",
            "phone",
            "work_unit",
            "is_party_member",
            "can_order_online",
            "away",
            "care_groups",
            "emergency_name",
            "emergency_relation",
            "emergency_phone",
            "household",
            "address",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.DATE)
    def get_birth_date(self, resident: Resident) -> str | None:
        # Null for roles that see the ID masked: the birth date is the masked digits.
        value = policy_for(_viewer(self)).birth_date(resident)
        return value.isoformat() if value is not None else None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_care_groups(self, resident: Resident) -> list[str]:
        # The sheet labels (独居老人, 孕妇, ...): data, the same in every UI language.
        # Read from the prefetched rows so a page of residents costs one query, not fifty.
        return [CARE_GROUP_LABELS[m.group] for m in resident.care_groups.all()]


class ResidentDetailSerializer(ResidentSerializer):
    health_notes = serializers.SerializerMethodField()

    class Meta(ResidentSerializer.Meta):
        fields = [*ResidentSerializer.Meta.fields, "health_notes"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_health_notes(self, resident: Resident) -> str | None:
        # Null for roles that may not read them (see the policy's role table).
        return policy_for(_viewer(self)).health_notes(resident)


class HouseholdResidentSerializer(ResidentSerializer):
    """A member as listed on the household: the address is the household's own."""

    class Meta(ResidentSerializer.Meta):
        fields = [f for f in ResidentSerializer.Meta.fields if f not in ("household", "address")]
        read_only_fields = fields


class HouseholdSerializer(serializers.ModelSerializer):
    address = serializers.CharField(read_only=True)
    building = serializers.CharField(source="building.path", read_only=True, default="")
    phone = MaskedPhoneField()
    lived_in = serializers.BooleanField(read_only=True)

    class Meta:
        model = Household
        fields = [
            "id",
            "address",
            "building",
            "unit",
            "room",
            "phone",
            "members",
            "members_away",
            "online_members",
            "lived_in",
        ]
        read_only_fields = fields


class HouseholdDetailSerializer(HouseholdSerializer):
    residents = HouseholdResidentSerializer(many=True, read_only=True)

    class Meta(HouseholdSerializer.Meta):
        fields = [*HouseholdSerializer.Meta.fields, "note", "residents"]
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.STR)
class StaffPhoneField(MaskedPhoneField):
    """A grid member's work phone: shown to everyone the grid serves (Policy.staff_phone)."""

    def to_representation(self, value: str) -> str:
        return policy_for(_viewer(self)).staff_phone(value)


class GridMemberSerializer(serializers.ModelSerializer):
    phone = StaffPhoneField()

    class Meta:
        model = GridMember
        fields = ["id", "name", "phone"]
        read_only_fields = fields


class GridSerializer(serializers.ModelSerializer):
    level_label = serializers.CharField(source="get_level_display", read_only=True)
    region = serializers.CharField(source="region.display_path", read_only=True)
    chiefs = serializers.SerializerMethodField()
    workers = serializers.SerializerMethodField()
    coverage = serializers.SerializerMethodField()
    households = serializers.SerializerMethodField()

    class Meta:
        model = Grid
        fields = [
            "id",
            "level",
            "level_label",
            "name",
            "region",
            "parent",
            "chiefs",
            "workers",
            "coverage",
            "households",
            "duties",
        ]
        read_only_fields = fields

    def _members(self, grid: Grid, role: str) -> list[dict]:
        members = [m for m in grid.members.all() if m.role == role]
        return GridMemberSerializer(members, many=True, context=self.context).data

    @extend_schema_field(GridMemberSerializer(many=True))
    def get_chiefs(self, grid: Grid) -> list[dict]:
        return self._members(grid, GridMember.Role.CHIEF)

    @extend_schema_field(GridMemberSerializer(many=True))
    def get_workers(self, grid: Grid) -> list[dict]:
        return self._members(grid, GridMember.Role.WORKER)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_coverage(self, grid: Grid) -> list[str]:
        return [
            region.display_path
            for region in natural_sorted(grid.coverage.all(), key=lambda r: r.display_path)
        ]

    @extend_schema_field(OpenApiTypes.INT)
    def get_households(self, grid: Grid) -> int:
        # Counted for the whole page at once by the view (see grid_household_counts).
        return self.context["household_counts"].get(grid.pk, 0)


class VisitSerializer(serializers.ModelSerializer):
    address = serializers.CharField(source="household.address", read_only=True)
    visitor = serializers.CharField(source="visitor_name", read_only=True)
    # Free text about people: null for roles that may not read it (see the policy).
    note = serializers.SerializerMethodField()
    needs = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.STR)
    def get_note(self, visit: Visit) -> str | None:
        text = policy_for(_viewer(self)).visit_text(visit)
        return text[0] if text is not None else None

    @extend_schema_field(OpenApiTypes.STR)
    def get_needs(self, visit: Visit) -> str | None:
        text = policy_for(_viewer(self)).visit_text(visit)
        return text[1] if text is not None else None

    class Meta:
        model = Visit
        fields = [
            "id",
            "household",
            "address",
            "at",
            "day",
            "outcome",
            "purpose",
            "note",
            "needs",
            "visitor",
        ]
        read_only_fields = fields


class VisitCreateSerializer(serializers.Serializer):
    household = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=Visit.Outcome.values)
    purpose = serializers.ChoiceField(choices=Visit.Purpose.values, default="care")
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    needs = serializers.CharField(required=False, allow_blank=True, max_length=1000)

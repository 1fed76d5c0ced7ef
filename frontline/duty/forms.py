"""Forms for the mobilisation pages: they parse and check shapes; the services decide.

Every choice of a place, a unit, a cadre or a branch is confined to what the caller may
see: the querysets are built from `visible_to` and the page's region, so a place picked
outside (a crafted POST) is refused by the form with the same words as one that does not
exist, and the service checks the jurisdiction again.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontline.accounts.policy import policy_for
from frontline.territory.models import Level, Region

from .models import (
    Branch,
    BranchMember,
    ChainLevel,
    CommandoTeam,
    Deployment,
    MemberKind,
    OrgUnit,
    PartyGroup,
    PartyPost,
    PipelineEntry,
    Rank,
)

OUTSIDE = _("Choose a place inside your jurisdiction.")
NO_UNIT = _("Choose a unit you manage.")
NO_BRANCH = _("Choose a branch inside your jurisdiction.")
NO_MEMBER = _("Choose one of the branch's members.")


class RegionChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        return obj.path or obj.name


class RegionsChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        return obj.name


def regions_under(scope: Region, levels: tuple[int, ...]):
    """The places under `scope` (itself included: a region carries itself among its
    ancestors) at `levels`."""
    return Region.objects.within(scope).filter(level__in=levels)


def _region_field(scope: Region, levels: tuple[int, ...], label: Any) -> RegionChoice:
    return RegionChoice(
        queryset=regions_under(scope, levels).order_by("path"),
        label=label,
        error_messages={"invalid_choice": OUTSIDE, "required": _("Choose a place.")},
    )


def units_for(user: Any):
    """The units an account may add cadres to: those inside; with them, for a city-wide
    account, the city's own units (they have no place)."""
    policy = policy_for(user)
    units = OrgUnit.objects.visible_to(user)
    if policy.jurisdiction is not None and policy.jurisdiction.level == Level.CITY:
        units = OrgUnit.objects.all()
    return units.order_by("name")


def _date(label: Any, required: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Write a date as YYYY-MM-DD.")},
    )


class UnitForm(forms.Form):
    name = forms.CharField(label=_("Unit name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=OrgUnit.Kind.choices)
    home = RegionChoice(queryset=Region.objects.none(), required=False, label=_("Belongs to"))

    def __init__(
        self, *args: Any, scope: Region | None = None, editing: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if editing or scope is None:
            # A unit keeps its place: its cadres are located there.
            del self.fields["home"]
            return
        home = _region_field(
            scope, (Level.DISTRICT, Level.TOWNSHIP, Level.COMMUNITY), _("Belongs to")
        )
        # Empty is the city (a city unit): offered only to a city-wide account.
        if scope.level == Level.CITY:
            home.required = False
            home.empty_label = _("The city")
        self.fields["home"] = home


class CadreForm(forms.Form):
    org_unit = forms.ModelChoiceField(
        queryset=OrgUnit.objects.none(),
        label=_("Unit"),
        error_messages={"invalid_choice": NO_UNIT, "required": NO_UNIT},
    )
    name = forms.CharField(label=_("Name"), max_length=32)
    id_number = forms.CharField(label=_("ID number"), max_length=18)
    rank = forms.ChoiceField(label=_("Rank"), choices=Rank.choices)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    is_party_member = forms.BooleanField(label=_("Party member"), required=False)

    def __init__(self, *args: Any, user: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["org_unit"]
            del self.fields["id_number"]
        else:
            self.fields["org_unit"].queryset = units_for(user)  # type: ignore[attr-defined]


class DeploymentForm(forms.Form):
    region = RegionChoice(queryset=Region.objects.none(), label=_("Sent to"))
    role = forms.ChoiceField(label=_("Role"), choices=Deployment.Role.choices)
    task_force = forms.CharField(
        label=_("Task force"),
        max_length=64,
        required=False,
        help_text=_("For a headquarters task force: its name (指挥部, 专班, 工作组)."),
    )
    chain_level = forms.ChoiceField(
        label=_("Responsibility chain"),
        choices=[("", "—"), *ChainLevel.choices],
        required=False,
    )
    start = _date(_("From"))
    end = _date(_("Until"), required=False)

    def __init__(self, *args: Any, scope: Region, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"] = _region_field(
            scope, (Level.DISTRICT, Level.TOWNSHIP, Level.COMMUNITY, Level.COMPOUND), _("Sent to")
        )
        self.fields["start"].initial = timezone.localdate()


class DeploymentEndForm(forms.Form):
    end = _date(_("Last day"))


class PairingForm(forms.Form):
    org_unit = forms.ModelChoiceField(
        queryset=OrgUnit.objects.none(),
        label=_("Unit"),
        error_messages={"invalid_choice": NO_UNIT, "required": NO_UNIT},
    )
    community = RegionChoice(queryset=Region.objects.none(), label=_("Community"))
    since = _date(_("Since"))

    def __init__(self, *args: Any, user: Any, scope: Region, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The city's own units pair most often; with them, the units inside. A township's
        # unit elsewhere is not offered (its name is that township's business).
        inside = OrgUnit.objects.visible_to(user).values("pk")
        self.fields["org_unit"].queryset = OrgUnit.objects.filter(  # type: ignore[attr-defined]
            Q(home__isnull=True) | Q(pk__in=inside)
        ).order_by("name")
        self.fields["community"] = _region_field(scope, (Level.COMMUNITY,), _("Community"))
        self.fields["since"].initial = timezone.localdate()


class BranchForm(forms.Form):
    name = forms.CharField(label=_("Branch name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=Branch.Kind.choices)
    setting = forms.ChoiceField(label=_("Set up at"), choices=Branch.Setting.choices)
    region = RegionChoice(queryset=Region.objects.none(), label=_("Place"))
    start = _date(_("From"))
    end = _date(_("Until"), required=False)
    secretary = forms.ModelChoiceField(
        queryset=BranchMember.objects.none(),
        required=False,
        label=_("Secretary"),
        error_messages={"invalid_choice": NO_MEMBER},
    )

    def __init__(
        self, *args: Any, scope: Region | None = None, branch: Branch | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if branch is not None:
            del self.fields["region"]
            self.fields["secretary"].queryset = branch.members.order_by("name")  # type: ignore[attr-defined]
        else:
            del self.fields["secretary"]
            assert scope is not None
            self.fields["region"] = _region_field(
                scope, (Level.COMMUNITY, Level.COMPOUND, Level.BUILDING), _("Place")
            )
            self.fields["start"].initial = timezone.localdate()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end date is before the start date."))
        return data


class MemberForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=MemberKind.choices)
    name = forms.CharField(label=_("Name"), max_length=32)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    joined = _date(_("Joined"))
    secretary = forms.BooleanField(label=_("Secretary of the branch"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["joined"].initial = timezone.localdate()


class GroupForm(forms.Form):
    function = forms.ChoiceField(label=_("Function"), choices=PartyGroup.Function.choices)
    leader = forms.CharField(label=_("Leader"), max_length=32, required=False)


class ZoneForm(forms.Form):
    name = forms.CharField(label=_("Zone name"), max_length=64)
    keeper = forms.CharField(label=_("Party member in charge"), max_length=32, required=False)
    buildings = RegionsChoice(
        queryset=Region.objects.none(),
        required=False,
        label=_("Buildings"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": OUTSIDE, "invalid_pk_value": OUTSIDE},
    )

    def __init__(self, *args: Any, branch: Branch, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["buildings"].queryset = (  # type: ignore[attr-defined]
            Region.objects.filter(level=Level.BUILDING).within(branch.region).order_by("path")
        )


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Team name"), max_length=64)
    kind = forms.ChoiceField(label=_("Kind"), choices=CommandoTeam.Kind.choices)
    leader = forms.CharField(label=_("Leader"), max_length=32, required=False)
    size = forms.IntegerField(
        label=_("Members"),
        min_value=0,
        max_value=10000,
        initial=0,
        error_messages={"min_value": _("The number of members is not negative.")},
    )


class PartyPostForm(forms.Form):
    region = RegionChoice(queryset=Region.objects.none(), label=_("Place"))
    name = forms.CharField(label=_("Post name"), max_length=64)
    kind = forms.ChoiceField(label=_("Kind"), choices=PartyPost.Kind.choices)
    holder = forms.CharField(label=_("Held by"), max_length=32, required=False)

    def __init__(self, *args: Any, branch: Branch, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"] = _region_field(
            branch.region, (Level.COMMUNITY, Level.COMPOUND, Level.BUILDING), _("Place")
        )
        self.fields["region"].initial = branch.region_id


class PipelineForm(forms.Form):
    branch = forms.ModelChoiceField(
        queryset=Branch.objects.none(),
        label=_("Assessed by branch"),
        error_messages={"invalid_choice": NO_BRANCH, "required": NO_BRANCH},
    )
    name = forms.CharField(label=_("Name"), max_length=32)
    stage = forms.ChoiceField(label=_("Stage"), choices=PipelineEntry.Stage.choices)
    assessed_on = _date(_("Assessed on"))
    identified_in_frontline = forms.BooleanField(
        label=_("Identified in the frontline"), required=False
    )

    def __init__(self, *args: Any, user: Any, scope: Region, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = (  # type: ignore[attr-defined]
            Branch.objects.visible_to(user).within(scope).order_by("name")
        )
        self.fields["assessed_on"].initial = timezone.localdate()


class AdvanceForm(forms.Form):
    stage = forms.ChoiceField(label=_("Next stage"), choices=PipelineEntry.Stage.choices)
    assessed_on = _date(_("Assessed on"))

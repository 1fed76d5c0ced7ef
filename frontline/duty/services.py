"""Mobilisation writes: units, cadres, deployments, pairings, Party organisations, roles.

Each function authorises through the jurisdiction policy when given an `actor` (None is
the system: the demo, a command run without `--as`), validates, and writes in one
transaction. The roster (posts and shifts) is in `roster`, party member reporting in
`reporting`, the cadre roster import in `cadre_import`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from frontline.accounts.policy import Action, policy_for
from frontline.core.errors import DomainError
from frontline.people.idnumber import InvalidIdNumber, parse_id_number
from frontline.territory.models import Level, Region

from .models import (
    CHAIN_REGION_LEVEL,
    Branch,
    BranchMember,
    Cadre,
    ChainLevel,
    CommandoTeam,
    Deployment,
    MemberKind,
    OrgUnit,
    Pairing,
    PartyGroup,
    PartyPost,
    PipelineEntry,
    Rank,
    ResponsibilityZone,
    RoleAssignment,
    TenRole,
)

NAME_MAX = 32


def _require(actor: Any, action: Action, target: Any = None) -> None:
    if actor is not None:
        policy_for(actor).require(action, target)


def _name(value: str, limit: int = 64) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(_("A name is required."))
    if len(value) > limit:
        raise DomainError(_("A name is at most %(n)d characters.") % {"n": limit})
    return value


def _choice(value: str, choices: Any, what: str) -> str:
    if value not in choices.values:
        raise DomainError(
            _("The %(what)s is one of: %(choices)s.")
            % {"what": what, "choices": ", ".join(choices.values)}
        )
    return value


def _period(start: dt.date, end: dt.date | None) -> None:
    if end is not None and end < start:
        raise DomainError(_("The end date is before the start date."))


# --- units and cadres ----------------------------------------------------------------------

_UNIT_KIND_FOR_LEVEL: dict[int, str] = {
    Level.CITY: OrgUnit.Kind.CITY,
    Level.DISTRICT: OrgUnit.Kind.DISTRICT,
}


def unit_kind_for(home: Region | None) -> str:
    """The kind of a unit that belongs to `home`: the city's, a district's, a township's."""
    if home is None:
        return OrgUnit.Kind.CITY
    return _UNIT_KIND_FOR_LEVEL.get(home.level, OrgUnit.Kind.TOWNSHIP)


def unit_create(
    *, name: str, kind: str = "", home: Region | None = None, actor: Any = None
) -> OrgUnit:
    """A unit belonging to `home` (None or the city: a city unit)."""
    if home is not None and home.level == Level.CITY:
        home = None
    _require(actor, Action.MANAGE_MOBILISATION, home)
    if actor is not None and home is None:
        # A city unit is the city's: only a city-wide account may add one.
        _require(actor, Action.MANAGE_MOBILISATION, _city())
        if policy_for(actor).jurisdiction.level != Level.CITY:  # type: ignore[union-attr]
            raise DomainError(_("Only a city-wide account may add a city unit."))
    name = _name(name, 100)
    kind = _choice(kind or unit_kind_for(home), OrgUnit.Kind, _("kind"))
    if OrgUnit.objects.filter(name=name).exists():
        raise DomainError(_("A unit named “%(name)s” exists already.") % {"name": name})
    unit = OrgUnit(name=name, kind=kind, home=home)
    if home is not None:
        unit.locate(home)
    unit.save()
    return unit


def _city() -> Region:
    from frontline.territory.services import city

    return city()


def check_id_number(value: str) -> str:
    try:
        return parse_id_number(value).number
    except InvalidIdNumber as exc:
        raise DomainError(_("ID number: %(reason)s") % {"reason": exc}) from None


def cadre_create(
    *,
    org_unit: OrgUnit,
    name: str,
    id_number: str,
    rank: str,
    phone: str = "",
    is_party_member: bool = False,
    user: Any = None,
    actor: Any = None,
) -> Cadre:
    _require(actor, Action.MANAGE_MOBILISATION, org_unit if org_unit.home_id else None)
    number = check_id_number(id_number)
    info = parse_id_number(number)
    if Cadre.objects.filter(id_number=number).exists():
        raise DomainError(_("A cadre with this ID number exists already."))
    cadre = Cadre(
        org_unit=org_unit,
        name=_name(name, NAME_MAX),
        sex=info.sex,
        id_number=number,
        phone=(phone or "").strip(),
        rank=_choice(rank, Rank, _("rank")),
        is_party_member=is_party_member,
        user=user,
    )
    _locate_like(cadre, org_unit)
    cadre.save()
    return cadre


def _locate_like(row: Any, other: Any) -> None:
    for name in ("district", "township", "community", "compound", "building"):
        setattr(row, f"{name}_id", getattr(other, f"{name}_id"))


def deployment_create(
    *,
    cadre: Cadre,
    region: Region,
    role: str,
    start: dt.date,
    end: dt.date | None = None,
    task_force: str = "",
    chain_level: str = "",
    actor: Any = None,
) -> Deployment:
    """Send a cadre down to `region` (a community, compound, or a task force's place)."""
    _require(actor, Action.MANAGE_MOBILISATION, region)
    _choice(role, Deployment.Role, _("role"))
    _period(start, end)
    if chain_level:
        _choice(chain_level, ChainLevel, _("responsibility chain"))
        if region.level != CHAIN_REGION_LEVEL[ChainLevel(chain_level)]:
            raise DomainError(
                _("“%(link)s” covers a region of level %(level)s.")
                % {
                    "link": ChainLevel(chain_level).label,
                    "level": Level(CHAIN_REGION_LEVEL[ChainLevel(chain_level)]).label,
                }
            )
    if role == Deployment.Role.TASK_FORCE and not task_force.strip():
        raise DomainError(_("Name the task force (指挥部, 专班, 工作组)."))
    deployment = Deployment(
        cadre=cadre,
        region=region,
        role=role,
        start=start,
        end=end,
        task_force=task_force.strip()[:64],
        chain_level=chain_level,
    )
    deployment.locate(region)
    with transaction.atomic():
        deployment.save()
    return deployment


def responsibility_chain(region: Region) -> list[Deployment]:
    """The three-level chain over a place: who covers its township, community, compound.

    At most one query: the deployments on the chain at the place's ancestors.
    """
    ids = [
        getattr(region, f"{name}_id")
        for name in ("township", "community", "compound")
        if getattr(region, f"{name}_id")
    ]
    links = (
        Deployment.objects.filter(region_id__in=ids)
        .exclude(chain_level="")
        .select_related("cadre__org_unit", "region")
        .order_by("region__level", "cadre__name")
    )
    return [d for d in links if d.region.level == CHAIN_REGION_LEVEL[ChainLevel(d.chain_level)]]


def pairing_create(
    *, org_unit: OrgUnit, community: Region, since: dt.date, actor: Any = None
) -> Pairing:
    _require(actor, Action.MANAGE_MOBILISATION, community)
    if community.level != Level.COMMUNITY:
        raise DomainError(_("A unit is paired with a community."))
    pairing = Pairing(org_unit=org_unit, community=community, since=since)
    pairing.locate(community)
    with transaction.atomic():
        pairing.save()
    return pairing


# --- Party organisations -------------------------------------------------------------------


def branch_create(
    *,
    region: Region,
    name: str,
    kind: str,
    setting: str,
    start: dt.date,
    end: dt.date | None = None,
    actor: Any = None,
) -> Branch:
    _require(actor, Action.MANAGE_MOBILISATION, region)
    if region.level < Level.COMMUNITY:
        raise DomainError(_("A branch is set up at a community, a compound or a building."))
    _period(start, end)
    name = _name(name, 100)
    if Branch.objects.filter(region=region, name=name).exists():
        raise DomainError(_("A branch named “%(name)s” exists here already.") % {"name": name})
    branch = Branch(
        region=region,
        name=name,
        kind=_choice(kind, Branch.Kind, _("kind")),
        setting=_choice(setting, Branch.Setting, _("setting")),
        start=start,
        end=end,
    )
    branch.locate(region)
    with transaction.atomic():
        branch.save()
    return branch


def branch_add_member(
    *,
    branch: Branch,
    kind: str,
    name: str,
    phone: str = "",
    cadre: Cadre | None = None,
    user: Any = None,
    joined: dt.date,
    secretary: bool = False,
    actor: Any = None,
) -> BranchMember:
    _require(actor, Action.MANAGE_MOBILISATION, branch)
    member = BranchMember(
        branch=branch,
        kind=_choice(kind, MemberKind, _("kind")),
        name=_name(name, NAME_MAX),
        phone=(phone or "").strip()[:20],
        cadre=cadre,
        user=user,
        joined=joined,
    )
    _locate_like(member, branch)
    with transaction.atomic():
        member.save()
        if secretary:
            Branch.objects.filter(pk=branch.pk).update(secretary=member)
            branch.secretary = member
    return member


def party_group_create(
    *, branch: Branch, function: str, leader: str = "", actor: Any = None
) -> PartyGroup:
    _require(actor, Action.MANAGE_MOBILISATION, branch)
    _choice(function, PartyGroup.Function, _("function"))
    if PartyGroup.objects.filter(branch=branch, function=function).exists():
        raise DomainError(_("This branch has that group already."))
    group = PartyGroup(branch=branch, function=function, leader=leader.strip()[:NAME_MAX])
    _locate_like(group, branch)
    group.save()
    return group


def zone_create(
    *,
    branch: Branch,
    name: str,
    buildings: Sequence[Region] = (),
    keeper: str = "",
    actor: Any = None,
) -> ResponsibilityZone:
    _require(actor, Action.MANAGE_MOBILISATION, branch)
    for building in buildings:
        if building.level != Level.BUILDING or not building.is_within(branch.region):
            raise DomainError(
                _("%(place)s is not a building of the branch's place.")
                % {"place": building.display_path}
            )
    zone = ResponsibilityZone(branch=branch, name=_name(name), keeper=keeper.strip()[:NAME_MAX])
    _locate_like(zone, branch)
    with transaction.atomic():
        zone.save()
        zone.buildings.set(buildings)
    return zone


def commando_team_create(
    *,
    region: Region,
    name: str,
    kind: str = CommandoTeam.Kind.COMMANDO,
    branch: Branch | None = None,
    leader: str = "",
    size: int = 0,
    actor: Any = None,
) -> CommandoTeam:
    _require(actor, Action.MANAGE_MOBILISATION, region)
    team = CommandoTeam(
        branch=branch,
        name=_name(name),
        kind=_choice(kind, CommandoTeam.Kind, _("kind")),
        leader=leader.strip()[:NAME_MAX],
        size=max(0, size),
    )
    team.locate(region)
    team.save()
    return team


def party_post_create(
    *, region: Region, name: str, kind: str, holder: str = "", actor: Any = None
) -> PartyPost:
    _require(actor, Action.MANAGE_MOBILISATION, region)
    post = PartyPost(
        region=region,
        name=_name(name),
        kind=_choice(kind, PartyPost.Kind, _("kind")),
        holder=holder.strip()[:NAME_MAX],
    )
    post.locate(region)
    post.save()
    return post


def pipeline_record(
    *,
    branch: Branch,
    name: str,
    stage: str,
    assessed_on: dt.date,
    identified_in_frontline: bool = False,
    actor: Any = None,
) -> PipelineEntry:
    _require(actor, Action.MANAGE_MOBILISATION, branch)
    entry = PipelineEntry(
        branch=branch,
        name=_name(name, NAME_MAX),
        stage=_choice(stage, PipelineEntry.Stage, _("stage")),
        assessed_on=assessed_on,
        identified_in_frontline=identified_in_frontline,
    )
    _locate_like(entry, branch)
    entry.save()
    return entry


# --- the ten roles ------------------------------------------------------------------------


def role_assign(
    *, region: Region, role: str, person: Any, since: dt.date | None = None, actor: Any = None
) -> RoleAssignment:
    """Give one of the ten roles at a compound to a person with an account inside."""
    from django.utils import timezone

    _require(actor, Action.MANAGE_DUTY, region)
    if region.level != Level.COMPOUND:
        raise DomainError(_("The ten roles are given at a compound."))
    _choice(role, TenRole, _("role"))
    check_person_available(actor, person)
    assignment, _created = RoleAssignment.objects.get_or_create(
        region=region,
        role=role,
        person=person,
        defaults={
            "since": since or timezone.localdate(),
            **{f"{n}_id": getattr(region, f"{n}_id") for n in ("district", "township")},
            **{f"{n}_id": getattr(region, f"{n}_id") for n in ("community", "compound")},
        },
    )
    return assignment


def check_person_available(actor: Any, person: Any) -> None:
    """A person given a role or a shift: an active account whose place is inside the
    actor's jurisdiction. Outside reads like nobody, so names cannot be probed."""
    from frontline.core.errors import NotFound

    if person is None or not person.is_active:
        raise NotFound(_("No such person."))
    if actor is not None and not policy_for(actor).contains(person.region):
        raise NotFound(_("No such person."))

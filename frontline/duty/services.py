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


def _audit(actor: Any, change: str, row: Any, region: Any, **detail: Any) -> None:
    """One audit row for a structural change made by a person. The system (the demo, a
    command without `--as`) writes thousands of rows at once and is not traced row by row."""
    if actor is None:
        return
    from frontline.audit.models import AuditAction
    from frontline.audit.services import audit_record

    audit_record(
        actor=actor,
        action=AuditAction.MOBILISATION,
        object_type=row._meta.model_name,
        object_id=row.pk,
        region=region,
        detail={"change": change, **{k: str(v) for k, v in detail.items()}},
    )


def _require_unit(actor: Any, org_unit: OrgUnit) -> None:
    """A unit of a district or township is managed inside it; a city unit (no home) only
    by a city-wide account."""
    if actor is None:
        return
    if org_unit.home_id:
        _require(actor, Action.MANAGE_MOBILISATION, org_unit)
        return
    _require(actor, Action.MANAGE_MOBILISATION)
    home = policy_for(actor).jurisdiction
    if home is None or home.level != Level.CITY:
        raise DomainError(_("Only a city-wide account may change a city unit or its cadres."))


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
    with transaction.atomic():
        unit.save()
        _audit(actor, "unit_create", unit, home, name=name)
    return unit


def unit_update(*, unit: OrgUnit, name: str, kind: str, actor: Any = None) -> OrgUnit:
    """Rename a unit or correct its kind; its place stays (its cadres are located there)."""
    _require_unit(actor, unit)
    name = _name(name, 100)
    kind = _choice(kind, OrgUnit.Kind, _("kind"))
    if OrgUnit.objects.filter(name=name).exclude(pk=unit.pk).exists():
        raise DomainError(_("A unit named “%(name)s” exists already.") % {"name": name})
    unit.name, unit.kind = name, kind
    with transaction.atomic():
        unit.save(update_fields=["name", "kind"])
        _audit(actor, "unit_update", unit, unit.home, name=name, kind=kind)
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
    _require_unit(actor, org_unit)
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
    with transaction.atomic():
        cadre.save()
        _audit(actor, "cadre_create", cadre, org_unit.home, unit=org_unit.name)
    return cadre


def cadre_update(
    *,
    cadre: Cadre,
    name: str,
    rank: str,
    phone: str = "",
    is_party_member: bool = False,
    actor: Any = None,
) -> Cadre:
    """Correct a cadre's name, rank, phone, party membership. The ID number is who the
    cadre is (the roster import matches on it) and is not changed here."""
    _require_unit(actor, cadre.org_unit)
    cadre.name = _name(name, NAME_MAX)
    cadre.rank = _choice(rank, Rank, _("rank"))
    cadre.phone = (phone or "").strip()[:20]
    cadre.is_party_member = is_party_member
    with transaction.atomic():
        cadre.save(update_fields=["name", "rank", "phone", "is_party_member"])
        _audit(actor, "cadre_update", cadre, cadre.org_unit.home, name=cadre.name)
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
        _audit(actor, "deployment_create", deployment, region, cadre=cadre.pk, role=role)
    return deployment


def deployment_end(*, deployment: Deployment, end: dt.date, actor: Any = None) -> Deployment:
    """End a deployment on `end` (the cadre's last day there)."""
    _require(actor, Action.MANAGE_MOBILISATION, deployment)
    _period(deployment.start, end)
    deployment.end = end
    with transaction.atomic():
        deployment.save(update_fields=["end"])
        _audit(actor, "deployment_end", deployment, deployment.region, end=end.isoformat())
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
    if Pairing.objects.filter(org_unit=org_unit, community=community).exists():
        raise DomainError(_("This unit is paired with this community already."))
    pairing = Pairing(org_unit=org_unit, community=community, since=since)
    pairing.locate(community)
    with transaction.atomic():
        pairing.save()
        _audit(actor, "pairing_create", pairing, community, unit=org_unit.name)
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
        _audit(actor, "branch_create", branch, region, name=name)
    return branch


def branch_update(
    *,
    branch: Branch,
    name: str,
    kind: str,
    setting: str,
    start: dt.date,
    end: dt.date | None = None,
    secretary: BranchMember | None = None,
    actor: Any = None,
) -> Branch:
    """Correct a branch's name, kind, setting and dates, or name its secretary (one of its
    members). Its place stays: its members, groups and zones are located there."""
    _require(actor, Action.MANAGE_MOBILISATION, branch)
    _period(start, end)
    name = _name(name, 100)
    if Branch.objects.filter(region_id=branch.region_id, name=name).exclude(pk=branch.pk).exists():
        raise DomainError(_("A branch named “%(name)s” exists here already.") % {"name": name})
    if secretary is not None and secretary.branch_id != branch.pk:
        raise DomainError(_("The secretary is one of the branch's members."))
    branch.name = name
    branch.kind = _choice(kind, Branch.Kind, _("kind"))
    branch.setting = _choice(setting, Branch.Setting, _("setting"))
    branch.start, branch.end, branch.secretary = start, end, secretary
    with transaction.atomic():
        branch.save(update_fields=["name", "kind", "setting", "start", "end", "secretary"])
        _audit(actor, "branch_update", branch, branch.region, name=name)
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
    if cadre is not None and actor is not None and not policy_for(actor).contains(cadre):
        raise DomainError(_("No such cadre."))
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
        _audit(actor, "member_add", member, branch.region, branch=branch.name, name=member.name)
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
    with transaction.atomic():
        group.save()
        _audit(actor, "group_create", group, branch.region, function=function)
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
        _audit(actor, "zone_create", zone, branch.region, name=zone.name)
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
    if branch is not None and not (
        region.is_within(branch.region) or branch.region.is_within(region)
    ):
        raise DomainError(_("The team's place and its branch's place do not meet."))
    team = CommandoTeam(
        branch=branch,
        name=_name(name),
        kind=_choice(kind, CommandoTeam.Kind, _("kind")),
        leader=leader.strip()[:NAME_MAX],
        size=max(0, size),
    )
    team.locate(region)
    with transaction.atomic():
        team.save()
        _audit(actor, "team_create", team, region, name=team.name)
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
    with transaction.atomic():
        post.save()
        _audit(actor, "party_post_create", post, region, name=post.name)
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
    with transaction.atomic():
        entry.save()
        _audit(actor, "pipeline_record", entry, branch.region, stage=entry.stage)
    return entry


# The pipeline's order: a person moves forward through it, never back.
PIPELINE_ORDER = list(PipelineEntry.Stage.values)


def pipeline_advance(
    *, entry: PipelineEntry, stage: str, assessed_on: dt.date, actor: Any = None
) -> PipelineEntry:
    """Move a person to a later stage of the pipeline, assessed on `assessed_on`.

    A conditional UPDATE on the stage it was read at: two people advancing the same entry
    at once cannot both succeed, and the second is told, not silently overwritten."""
    _require(actor, Action.MANAGE_MOBILISATION, entry)
    _choice(stage, PipelineEntry.Stage, _("stage"))
    old = entry.stage
    if PIPELINE_ORDER.index(stage) <= PIPELINE_ORDER.index(old):
        raise DomainError(
            _("%(name)s is at “%(stage)s” already: choose a later stage.")
            % {"name": entry.name, "stage": PipelineEntry.Stage(old).label}
        )
    if assessed_on < entry.assessed_on:
        raise DomainError(_("The assessment date is before the previous one."))
    with transaction.atomic():
        moved = PipelineEntry.objects.filter(pk=entry.pk, stage=old).update(
            stage=stage, assessed_on=assessed_on
        )
        if not moved:
            raise DomainError(_("Someone else changed this entry: reload the page."))
        entry.stage, entry.assessed_on = stage, assessed_on
        _audit(actor, "pipeline_advance", entry, entry.branch.region, old=old, stage=stage)
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

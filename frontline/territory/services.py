"""Writes to the region tree and the grids. Reads live on the querysets."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _

from frontline.audit.models import AuditAction
from frontline.audit.services import audit_record
from frontline.core.errors import DomainError, NotFound

from .models import (
    ANCESTOR_FIELDS,
    LEVEL_FIELDS,
    Grid,
    GridLevel,
    GridMember,
    Level,
    Located,
    Region,
)

# Suffixes that say what kind of place a name is, longest first. Used when a census sheet
# or the demo creates a region that did not exist yet.
_KIND_SUFFIXES: dict[int, tuple[str, ...]] = {
    Level.DISTRICT: ("开发区", "新区", "区", "县", "市"),
    Level.TOWNSHIP: ("街道", "镇", "乡"),
    Level.COMMUNITY: ("社区", "村", "居委会"),
    Level.COMPOUND: ("自然村", "小区", "花园", "苑", "园", "庄", "组"),
    Level.BUILDING: ("号楼", "栋", "幢", "楼", "号"),
}

PATH_SEPARATOR = "/"


def kind_for(name: str, level: int) -> str:
    for suffix in _KIND_SUFFIXES.get(level, ()):
        if name.endswith(suffix):
            return suffix
    return ""


def city() -> Region:
    """The root of the tree, created on first use with the name from settings."""
    region = Region.objects.filter(level=Level.CITY).first()
    if region is None:
        region = Region.objects.create(
            name=settings.FRONTLINE_CITY, level=Level.CITY, kind="市", path=""
        )
    return region


def split_path(path: str) -> list[str]:
    parts = path.strip().strip(PATH_SEPARATOR).split(PATH_SEPARATOR)
    return [part.strip() for part in parts if part.strip()]


def region_by_path(path: str) -> Region:
    """The region at "裕安区/城南镇/...", or the city for an empty path or the city's name."""
    parts = split_path(path)
    if not parts or (len(parts) == 1 and parts[0] == city().name):
        return city()
    if parts[0] == city().name:
        parts = parts[1:]
    region = Region.objects.filter(path=PATH_SEPARATOR.join(parts)).first()
    if region is None:
        raise NotFound(_("No region at path “%(path)s”.") % {"path": path})
    return region


def jurisdiction_of(user) -> Region | None:
    """The region an account sees (the jurisdiction policy's answer)."""
    from frontline.accounts.policy import policy_for

    return policy_for(user).jurisdiction


def region_by_path_for(user, path: str) -> Region:
    """The region at `path` if the user may see it.

    Outside the jurisdiction it is NotFound with the same words as a path that does not
    exist, so that paths cannot be probed for existence.
    """
    from frontline.accounts.policy import policy_for

    return policy_for(user).region_by_path(path)


def _validate_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise DomainError(_("A region needs a name."))
    if PATH_SEPARATOR in name:
        raise DomainError(_("A region name cannot contain “/”: %(name)s") % {"name": name})
    if len(name) > 64:
        raise DomainError(_("A region name is at most 64 characters: %(name)s") % {"name": name})
    return name


def region_create(*, parent: Region, name: str, kind: str = "") -> Region:
    if parent.level >= Level.BUILDING:
        raise DomainError(_("A building cannot contain further regions."))
    name = _validate_name(name)
    level = parent.level + 1
    region = Region(
        name=name,
        level=level,
        kind=kind or kind_for(name, level),
        parent=parent,
        path=f"{parent.path}{PATH_SEPARATOR}{name}" if parent.path else name,
    )
    region.locate(parent)
    # The row's own id goes into its own level's column, so it needs an id first.
    region.save()
    setattr(region, f"{LEVEL_FIELDS[level]}_id", region.pk)
    region.save(update_fields=[LEVEL_FIELDS[level]])
    return region


def region_ensure_path(
    names: Sequence[str], *, cache: dict[tuple[str, ...], Region] | None = None
) -> Region:
    """The region at the end of `names` (district first), creating what is missing."""
    key: tuple[str, ...] = ()
    cached = cache.get(key) if cache is not None else None
    region = cached or city()
    if cache is not None:
        cache[key] = region
    for name in names:
        key = (*key, name)
        if cache is not None and key in cache:
            region = cache[key]
            continue
        child = Region.objects.filter(parent=region, name=name).first()
        region = child or region_create(parent=region, name=name)
        if cache is not None:
            cache[key] = region
    return region


@transaction.atomic
def region_rename(*, region: Region, name: str, actor=None, ip: str | None = None) -> Region:
    """Rename a region; every path under it follows. `actor`: who (None: the system)."""
    name = _validate_name(name)
    if name == region.name:
        return region
    if Region.objects.filter(parent=region.parent, name=name).exclude(pk=region.pk).exists():
        raise DomainError(_("“%(name)s” already exists here.") % {"name": name})
    old_path = region.path
    parent_path = region.parent.path if region.parent else ""
    new_path = f"{parent_path}{PATH_SEPARATOR}{name}" if parent_path else name
    _rewrite_paths(region, old_path, new_path)
    region.name = name
    region.kind = kind_for(name, region.level) or region.kind
    region.save(update_fields=["name", "kind"])
    region.refresh_from_db(fields=["path"])
    _audit_region(AuditAction.REGION_RENAME, region, old_path, actor=actor, ip=ip)
    return region


@transaction.atomic
def region_move(*, region: Region, new_parent: Region, actor=None, ip: str | None = None) -> Region:
    """Move a subtree under another parent of the same level as the old one.

    Every fact under the subtree (households, residents, grids, ...) is re-stamped with its
    new ancestors in one UPDATE per table, so rollups stay exact.
    """
    if region.parent is None or new_parent.level != region.parent.level:
        raise DomainError(_("A region can only move under a parent of the same level."))
    if new_parent.is_within(region):
        raise DomainError(_("A region cannot move under itself."))
    if Region.objects.filter(parent=new_parent, name=region.name).exists():
        raise DomainError(_("“%(name)s” already exists there.") % {"name": region.name})
    old_path = region.path
    new_path = f"{new_parent.path}{PATH_SEPARATOR}{region.name}" if new_parent.path else region.name
    subtree_filter = {f"{LEVEL_FIELDS[region.level]}_id": region.pk}
    stamp = {
        f"{name}_id": getattr(new_parent, f"{name}_id")
        for level, name in LEVEL_FIELDS.items()
        if level < region.level
    }
    for model in located_models():
        model.objects.filter(**subtree_filter).update(**stamp)
    Region.objects.filter(pk=region.pk).update(parent=new_parent)
    _rewrite_paths(region, old_path, new_path)
    region.refresh_from_db()
    _audit_region(AuditAction.REGION_MOVE, region, old_path, actor=actor, ip=ip)
    return region


def _audit_region(action: AuditAction, region: Region, old_path: str, *, actor, ip) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="region",
        object_id=region.pk,
        region=region,
        detail={"path": {"from": old_path, "to": region.path}},
        ip=ip,
    )


def _rewrite_paths(region: Region, old_path: str, new_path: str) -> None:
    subtree = Region.objects.filter(**{f"{LEVEL_FIELDS[region.level]}_id": region.pk})
    subtree.update(
        path=Concat(Value(new_path), Substr(F("path"), len(old_path) + 1)),
    )


def located_models() -> list[type[Located]]:
    """Every concrete model that carries ancestor columns."""
    from django.apps import apps

    return [m for m in apps.get_models() if issubclass(m, Located)]


# --- grids -----------------------------------------------------------------------------

_GRID_LEVEL_FOR_REGION: dict[int, int] = {
    Level.DISTRICT: GridLevel.DISTRICT,
    Level.TOWNSHIP: GridLevel.TOWNSHIP,
    Level.COMMUNITY: GridLevel.COMMUNITY,
    Level.COMPOUND: GridLevel.POINT,
}


def grid_place(*, grid: Grid) -> Grid:
    """Derive a grid's level and ancestor columns from its anchor region, checking the rules.

    A grid point (at a compound) covers the whole compound or a set of its buildings; a
    higher grid covers its own region. Does not save.
    """
    region = grid.region
    if region.level not in _GRID_LEVEL_FOR_REGION:
        raise DomainError(_("A grid is anchored at a district, township, community or compound."))
    grid.level = _GRID_LEVEL_FOR_REGION[region.level]
    parent = grid.parent
    if parent is not None and (
        parent.level != grid.level - 1 or not region.is_within(parent.region)
    ):
        raise DomainError(_("A grid's parent must be the grid one level up that contains it."))
    grid.locate(region)
    grid.building_id = None
    return grid


def check_grid_coverage(region: Region, coverage: Sequence[Region]) -> None:
    for covered in coverage:
        if not covered.is_within(region):
            raise DomainError(
                _("%(region)s is outside the grid's region %(anchor)s.")
                % {"region": covered.path, "anchor": region.path}
            )


@transaction.atomic
def grid_create(
    *,
    region: Region,
    name: str,
    parent: Grid | None = None,
    coverage: Sequence[Region] = (),
    duties: str = "",
) -> Grid:
    check_grid_coverage(region, coverage)
    grid = grid_place(grid=Grid(name=name.strip(), region=region, parent=parent, duties=duties))
    grid.save()
    grid.coverage.set(list(coverage) or [region])
    return grid


def grid_add_member(*, grid: Grid, role: str, name: str, phone: str = "", user=None) -> GridMember:
    if role not in GridMember.Role.values:
        raise DomainError(_("Unknown grid role: %(role)s") % {"role": role})
    member, _created = GridMember.objects.update_or_create(
        grid=grid, name=name, phone=phone, defaults={"role": role, "user": user}
    )
    return member


def grid_households(grid: Grid):
    """Households in the regions the grid covers: one query, OR over ancestor columns."""
    from django.db.models import Q

    from frontline.people.models import Household

    condition = Q(pk__in=[])
    for region in grid.coverage.all():
        if region.level == Level.CITY:
            return Household.objects.all()
        condition |= Q(**{f"{LEVEL_FIELDS[region.level]}_id": region.pk})
    return Household.objects.filter(condition)


__all__ = [
    "ANCESTOR_FIELDS",
    "city",
    "grid_add_member",
    "grid_create",
    "grid_place",
    "check_grid_coverage",
    "grid_households",
    "kind_for",
    "jurisdiction_of",
    "region_by_path",
    "region_by_path_for",
    "region_create",
    "region_ensure_path",
    "region_move",
    "region_rename",
    "split_path",
]

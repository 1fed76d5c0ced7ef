"""The region tree and the four-level grids.

The tree is fixed in depth (city → district → township → community → compound →
building), so every row carries its ancestors as indexed foreign keys: "everything under
金安区" is `district_id = X`, one indexed equality, never a recursive walk. Measured at
Lu'an scale this is two orders of magnitude faster than a recursive CTE or a path LIKE.
Facts (households, residents, later requests and isolation cases) inherit `Located` and
carry the same columns, so every rollup and every jurisdiction check is the same filter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

if TYPE_CHECKING:
    from frontline.accounts.models import User


class Level(models.IntegerChoices):
    CITY = 0, _("City")
    DISTRICT = 1, _("District/county")
    TOWNSHIP = 2, _("Township/sub-district")
    COMMUNITY = 3, _("Community/village")
    COMPOUND = 4, _("Compound")
    BUILDING = 5, _("Building")


# The ancestor column that holds a region of each level. The city has none: there is one
# city per deployment, so "within the city" is everything.
LEVEL_FIELDS: dict[int, str] = {
    Level.DISTRICT: "district",
    Level.TOWNSHIP: "township",
    Level.COMMUNITY: "community",
    Level.COMPOUND: "compound",
    Level.BUILDING: "building",
}
ANCESTOR_FIELDS = tuple(LEVEL_FIELDS.values())


class ScopedQuerySet(models.QuerySet):
    """Queries over rows that carry their ancestor regions."""

    def within(self, region: Region | None) -> ScopedQuerySet:
        if region is None:
            return self.none()
        if region.level == Level.CITY:
            return self.all()
        return self.filter(**{f"{LEVEL_FIELDS[region.level]}_id": region.pk})

    def visible_to(self, user: User | None) -> ScopedQuerySet:
        """Rows inside the user's jurisdiction; nothing for anyone without one.

        The jurisdiction policy decides (frontline.accounts.policy); this is its filter.
        """
        from frontline.accounts.policy import policy_for

        return policy_for(user).rows(self)  # type: ignore[return-value]


class Located(models.Model):
    """A row that lives somewhere in the region tree, with its ancestors at hand."""

    district = models.ForeignKey(
        "territory.Region", models.PROTECT, null=True, blank=True, related_name="+"
    )
    township = models.ForeignKey(
        "territory.Region", models.PROTECT, null=True, blank=True, related_name="+"
    )
    community = models.ForeignKey(
        "territory.Region", models.PROTECT, null=True, blank=True, related_name="+"
    )
    compound = models.ForeignKey(
        "territory.Region", models.PROTECT, null=True, blank=True, related_name="+"
    )
    building = models.ForeignKey(
        "territory.Region", models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        abstract = True

    def locate(self, region: Located) -> None:
        """Copy the region's ancestors (and the region itself) onto this row.

        Any located row will do as the place: a fact about a household or a resident is
        located where they live (`fact.locate(household)`).
        """
        for name in ANCESTOR_FIELDS:
            setattr(self, f"{name}_id", getattr(region, f"{name}_id"))


class Region(Located):
    """A node of the administrative tree: 市 → 区县 → 乡镇街道 → 村社区 → 小区 → 楼栋.

    Its own ancestor columns include itself at its own level, so `within(r)` includes r.
    """

    name = models.CharField(_("name"), max_length=64)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    # 区/县/开发区, 街道/镇/乡, 社区/村, 小区/自然村, 楼栋: what the place calls itself.
    kind = models.CharField(_("kind"), max_length=16, blank=True)
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children"
    )
    # Names from the district down, "裕安区/城南镇/陡步河社区/安康小区/1栋": the address
    # people type and sheets carry. Kept in step by the services on rename and move.
    path = models.CharField(_("path"), max_length=400, unique=True)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["level", "path"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="region_unique_name_in_parent"),
        ]
        indexes = [
            models.Index(fields=["district", "level"]),
            models.Index(fields=["township", "level"]),
            models.Index(fields=["community", "level"]),
            models.Index(fields=["compound", "level"]),
        ]

    def __str__(self) -> str:
        return self.path or self.name

    @property
    def display_path(self) -> str:
        return self.path or self.name

    def ancestors(self) -> list[Region]:
        """From the district down to the parent: at most four primary-key lookups."""
        ids = [
            getattr(self, f"{name}_id")
            for level, name in LEVEL_FIELDS.items()
            if level < self.level and getattr(self, f"{name}_id")
        ]
        by_id = Region.objects.in_bulk(ids)
        return [by_id[i] for i in ids if i in by_id]

    def is_within(self, other: Region) -> bool:
        if other.level == Level.CITY:
            return True
        if other.level > self.level:
            return False
        return getattr(self, f"{LEVEL_FIELDS[other.level]}_id") == other.pk


class GridLevel(models.IntegerChoices):
    DISTRICT = 1, _("District grid")
    TOWNSHIP = 2, _("Township/street grid")
    COMMUNITY = 3, _("Community/village grid")
    POINT = 4, _("Grid point (combat unit)")


class Grid(Located):
    """One cell of the four-level grid "battle map" (四级网格作战图).

    A grid is anchored at a region (a district, township, community or compound) and
    covers regions under it: a grid point covers a whole compound or a set of buildings.
    """

    name = models.CharField(_("name"), max_length=100)
    level = models.PositiveSmallIntegerField(_("grid level"), choices=GridLevel.choices)
    region = models.ForeignKey(
        Region, models.PROTECT, related_name="grids", verbose_name=_("region")
    )
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children"
    )
    coverage = models.ManyToManyField(
        Region, related_name="covering_grids", blank=True, verbose_name=_("coverage")
    )
    duties = models.TextField(_("duties"), blank=True)

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        ordering = ["level", "name"]
        constraints = [
            models.UniqueConstraint(fields=["region", "name"], name="grid_unique_name_in_region"),
        ]

    def __str__(self) -> str:
        return self.name


class GridMember(models.Model):
    class Role(models.TextChoices):
        CHIEF = "chief", pgettext_lazy("grid role", "Grid chief")
        WORKER = "worker", pgettext_lazy("grid role", "Grid worker")

    grid = models.ForeignKey(Grid, models.CASCADE, related_name="members")
    role = models.CharField(_("role"), max_length=8, choices=Role.choices)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=32)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    # Grid workers who use the system have an account; many at first do not.
    user = models.ForeignKey(
        "accounts.User", models.SET_NULL, null=True, blank=True, related_name="grid_memberships"
    )

    class Meta:
        verbose_name = _("grid member")
        verbose_name_plural = _("grid members")
        ordering = ["grid", "role", "name"]
        constraints = [
            models.UniqueConstraint(fields=["grid", "name", "phone"], name="grid_member_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()})"

"""Mobilisation and duty: the people a city sends to the frontline, and where they stand.

Units send cadres down (下沉) to communities and compounds; Party organisations are built
where the work is (standing and temporary branches, functional groups, responsibility
zones, commando teams, party posts); residents who are party members report to their
compound's branch; people take the ten roles (十大员) and 24-hour shifts at posts.

Every fact is `Located` where the work happens, so "cadres deployed in 金安区" and "gaps
in 安康小区 tonight" are the same indexed filter as every census figure, and jurisdiction
is the same `visible_to`. A unit is located at the region it belongs to (a city unit at
none: it is the city's), a cadre at the unit's region.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from frontline.territory.models import Located

# --- units, cadres, deployments -----------------------------------------------------------


class OrgUnit(Located):
    """A unit (单位) that sends cadres: 市直单位, 区直单位, township office, enterprise."""

    class Kind(models.TextChoices):
        CITY = "city", _("City unit")
        DISTRICT = "district", _("District unit")
        TOWNSHIP = "township", _("Township office")
        ENTERPRISE = "enterprise", _("Enterprise")

    name = models.CharField(pgettext_lazy("organisation", "name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    home = models.ForeignKey(
        "territory.Region", models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Rank(models.TextChoices):
    DIVISION = "division", _("Division level")
    DEPUTY_DIVISION = "deputy_division", _("Deputy division level")
    SECTION = "section", _("Section level")
    STAFF = "staff", _("General cadre")


# The sheet's words for the ranks (the roster import reads them).
RANK_BY_LABEL = {
    "正处级": Rank.DIVISION,
    "副处级": Rank.DEPUTY_DIVISION,
    "科级": Rank.SECTION,
    "一般干部": Rank.STAFF,
}


class Cadre(Located):
    """A cadre (干部) of a unit. Located at the unit's region."""

    org_unit = models.ForeignKey(
        OrgUnit, models.PROTECT, related_name="cadres", verbose_name=_("unit")
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=32)
    sex = models.CharField(_("sex"), max_length=1)
    id_number = models.CharField(_("ID number"), max_length=18, unique=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    rank = models.CharField(_("rank"), max_length=16, choices=Rank.choices)
    is_party_member = models.BooleanField(_("party member"), default=False)
    # A cadre who uses the system (check-in, the today page) has an account.
    user = models.OneToOneField(
        "accounts.User", models.SET_NULL, null=True, blank=True, related_name="cadre"
    )

    class Meta:
        verbose_name = _("cadre")
        verbose_name_plural = _("cadres")
        ordering = ["org_unit", "name", "id"]

    def __str__(self) -> str:
        return self.name


class ChainLevel(models.TextChoices):
    """The three-level responsibility chain (三级包保)."""

    DISTRICT_LEADER = "district_leader", _("District leader covering a township")
    SECTION_CADRE = "section_cadre", _("Section-level cadre covering a community")
    CADRE = "cadre", _("Cadre covering a compound")


# The region level each link of the chain covers (township 2, community 3, compound 4).
CHAIN_REGION_LEVEL = {
    ChainLevel.DISTRICT_LEADER: 2,
    ChainLevel.SECTION_CADRE: 3,
    ChainLevel.CADRE: 4,
}


class Deployment(Located):
    """A cadre sent down (下沉) to a place, or to a headquarters task force, for a period."""

    class Role(models.TextChoices):
        DUTY = "duty", _("Duty at a post")
        GRID_WORKER = "grid_worker", _("Grid worker")
        COVERAGE = "coverage", _("Coverage (包保)")
        TASK_FORCE = "task_force", _("Headquarters task force")
        INSPECTION = "inspection", _("Inspection")

    cadre = models.ForeignKey(
        Cadre, models.CASCADE, related_name="deployments", verbose_name=_("cadre")
    )
    region = models.ForeignKey(
        "territory.Region", models.PROTECT, related_name="+", verbose_name=_("place")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    # 指挥部, 专班, 工作组: the task force's own name, when the cadre joins one.
    task_force = models.CharField(_("task force"), max_length=64, blank=True)
    chain_level = models.CharField(
        _("responsibility chain"), max_length=16, choices=ChainLevel.choices, blank=True
    )
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("deployment")
        verbose_name_plural = _("deployments")
        ordering = ["-start", "id"]
        indexes = [models.Index(fields=["role"]), models.Index(fields=["chain_level"])]


class Pairing(Located):
    """A unit paired with a community (结对共建)."""

    org_unit = models.ForeignKey(OrgUnit, models.CASCADE, related_name="pairings")
    community = models.ForeignKey("territory.Region", models.PROTECT, related_name="+")
    since = models.DateField(_("since"))

    class Meta:
        verbose_name = _("pairing")
        verbose_name_plural = _("pairings")
        constraints = [
            models.UniqueConstraint(fields=["org_unit", "community"], name="pairing_unique"),
        ]


# --- Party organisations in the frontline -------------------------------------------------


class Branch(Located):
    """A Party branch: standing (党支部) or temporary (临时党支部), built where the work is."""

    class Kind(models.TextChoices):
        STANDING = "standing", _("Standing branch")
        TEMPORARY = "temporary", _("Temporary branch")

    class Setting(models.TextChoices):
        COMPOUND = "compound", _("Compound")
        ISOLATION_POINT = "isolation_point", _("Isolation point")
        TRANSFER_TEAM = "transfer_team", _("Transfer team")
        OTHER = "other", _("Other")

    name = models.CharField(pgettext_lazy("organisation", "name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    setting = models.CharField(_("set up at"), max_length=16, choices=Setting.choices)
    region = models.ForeignKey("territory.Region", models.PROTECT, related_name="+")
    secretary = models.ForeignKey(
        "BranchMember", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["region", "name"], name="branch_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class MemberKind(models.TextChoices):
    CADRE = "cadre", _("Deployed cadre")
    PARTY_MEMBER = "party_member", _("Resident party member")
    YOUTH_LEAGUE = "youth_league", _("Youth League member")
    ENTERPRISE = "enterprise", _("Private-enterprise manager")
    VOLUNTEER = "volunteer", _("Volunteer")


class BranchMember(Located):
    branch = models.ForeignKey(Branch, models.CASCADE, related_name="members")
    kind = models.CharField(_("kind"), max_length=16, choices=MemberKind.choices)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=32)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    cadre = models.ForeignKey(Cadre, models.SET_NULL, null=True, blank=True, related_name="+")
    user = models.ForeignKey(
        "accounts.User", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    joined = models.DateField(_("joined"))

    class Meta:
        verbose_name = _("branch member")
        verbose_name_plural = _("branch members")
        ordering = ["branch", "name", "id"]


class PartyGroup(Located):
    """A functional party group (功能性党小组) under a branch."""

    class Function(models.TextChoices):
        DUTY = "duty", _("Duty")
        SUPPLIES = "supplies", _("Supplies")
        COUNSELLING = "counselling", _("Counselling")
        DISINFECTION = "disinfection", _("Disinfection")
        EMERGENCY = "emergency", _("Emergency response")

    branch = models.ForeignKey(Branch, models.CASCADE, related_name="groups")
    function = models.CharField(_("function"), max_length=16, choices=Function.choices)
    leader = models.CharField(_("leader"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("functional party group")
        verbose_name_plural = _("functional party groups")
        constraints = [
            models.UniqueConstraint(fields=["branch", "function"], name="party_group_unique"),
        ]


class ResponsibilityZone(Located):
    """A party responsibility zone (党员责任区): buildings in a party member's care."""

    branch = models.ForeignKey(Branch, models.CASCADE, related_name="zones")
    name = models.CharField(pgettext_lazy("organisation", "name"), max_length=64)
    keeper = models.CharField(_("party member in charge"), max_length=32, blank=True)
    buildings = models.ManyToManyField("territory.Region", related_name="+", blank=True)

    class Meta:
        verbose_name = _("responsibility zone")
        verbose_name_plural = _("responsibility zones")


class CommandoTeam(Located):
    """A party commando team (党员突击队) or task group (攻坚小组)."""

    class Kind(models.TextChoices):
        COMMANDO = "commando", _("Party commando team")
        TASK_GROUP = "task_group", _("Task group")

    branch = models.ForeignKey(Branch, models.SET_NULL, null=True, blank=True, related_name="teams")
    name = models.CharField(pgettext_lazy("organisation", "name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    leader = models.CharField(_("leader"), max_length=32, blank=True)
    size = models.PositiveSmallIntegerField(_("members"), default=0)

    class Meta:
        verbose_name = _("commando team")
        verbose_name_plural = _("commando teams")


class PartyPost(Located):
    """A party post at a place: 党员先锋岗, 责任岗, 服务站."""

    class Kind(models.TextChoices):
        VANGUARD = "vanguard", _("Party vanguard post")
        RESPONSIBILITY = "responsibility", _("Party responsibility post")
        SERVICE = "service", _("Party service station")

    region = models.ForeignKey("territory.Region", models.PROTECT, related_name="+")
    name = models.CharField(pgettext_lazy("organisation", "name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    holder = models.CharField(_("held by"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("party post")
        verbose_name_plural = _("party posts")


class Report(Located):
    """A party member reporting (党员报到) to a branch, from the branch's QR page.

    One report per branch and ID number: reporting twice updates the first. Confirmed
    reports get an account (`user`), so the person can take roles and shifts.
    """

    class State(models.TextChoices):
        PENDING = "pending", pgettext_lazy("report state", "Waiting")
        CONFIRMED = "confirmed", pgettext_lazy("report state", "Confirmed")
        REJECTED = "rejected", pgettext_lazy("report state", "Rejected")

    branch = models.ForeignKey(Branch, models.CASCADE, related_name="reports")
    kind = models.CharField(_("kind"), max_length=16, choices=MemberKind.choices)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=32)
    id_number = models.CharField(_("ID number"), max_length=18)
    phone = models.CharField(_("phone"), max_length=20)
    skills = models.CharField(_("can help with"), max_length=200, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    reported_at = models.DateTimeField(_("reported"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        "accounts.User", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    user = models.OneToOneField(
        "accounts.User", models.SET_NULL, null=True, blank=True, related_name="party_report"
    )

    class Meta:
        verbose_name = _("party member report")
        verbose_name_plural = _("party member reports")
        ordering = ["-reported_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "id_number"], name="report_once"),
        ]
        indexes = [models.Index(fields=["state", "kind"])]


class PipelineEntry(Located):
    """One person in the membership pipeline (党员发展), with the branch that assessed them."""

    class Stage(models.TextChoices):
        APPLICATION = "application", _("Application received")
        ACTIVIST = "activist", _("Activist")
        DEVELOPMENT = "development", _("Development object")
        PROBATIONARY = "probationary", _("Probationary member")

    branch = models.ForeignKey(Branch, models.PROTECT, related_name="pipeline")
    name = models.CharField(pgettext_lazy("person", "name"), max_length=32)
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices)
    # An activist first identified in the frontline (火线确定), not before the emergency.
    identified_in_frontline = models.BooleanField(default=False)
    assessed_on = models.DateField(_("assessed on"))

    class Meta:
        verbose_name = _("pipeline entry")
        verbose_name_plural = _("pipeline entries")
        indexes = [models.Index(fields=["stage"])]


# --- roles and the duty roster --------------------------------------------------------------


class TenRole(models.TextChoices):
    """The ten roles (十大员) at a compound."""

    DUTY = "duty", _("Duty officer")
    PUBLICITY = "publicity", _("Publicity officer")
    PURCHASING = "purchasing", _("Purchaser")
    DELIVERY = "delivery", _("Delivery worker")
    TESTING = "testing", _("Testing assistant")
    PATROL = "patrol", _("Patroller")
    INFORMATION = "information", _("Information officer")
    COORDINATION = "coordination", _("Coordinator")
    REPAIRS = "repairs", _("Household repairs")
    COUNSELLING = "counselling", _("Counsellor")


class RoleAssignment(Located):
    """One of the ten roles given to a person at a compound."""

    region = models.ForeignKey("territory.Region", models.PROTECT, related_name="+")
    role = models.CharField(_("role"), max_length=16, choices=TenRole.choices)
    person = models.ForeignKey("accounts.User", models.CASCADE, related_name="duty_roles")
    since = models.DateField(_("since"))

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(fields=["region", "role", "person"], name="role_once"),
        ]


class Post(Located):
    """A duty post at a place: a checkpoint (卡点), a duty desk, a patrol, a service station."""

    class Kind(models.TextChoices):
        CHECKPOINT = "checkpoint", _("Checkpoint")
        DUTY = "duty", pgettext_lazy("post kind", "Duty desk")
        PATROL = "patrol", pgettext_lazy("post kind", "Patrol")
        SERVICE = "service", pgettext_lazy("post kind", "Service station")

    region = models.ForeignKey("territory.Region", models.PROTECT, related_name="+")
    name = models.CharField(pgettext_lazy("organisation", "name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["region", "name"], name="post_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Shift(Located):
    """A person on duty at a post from `start` to `end` (half-open: [start, end))."""

    post = models.ForeignKey(Post, models.CASCADE, related_name="shifts")
    person = models.ForeignKey("accounts.User", models.PROTECT, related_name="shifts")
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out"), null=True, blank=True)

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["start", "id"]
        indexes = [
            models.Index(fields=["post", "start"]),
            models.Index(fields=["person", "start"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="shift_ends_after_start"
            ),
        ]


class PatrolLog(Located):
    shift = models.ForeignKey(Shift, models.CASCADE, related_name="patrol_logs")
    at = models.DateTimeField(_("at"))
    note = models.TextField(_("note"))

    class Meta:
        verbose_name = _("patrol log")
        verbose_name_plural = _("patrol logs")
        ordering = ["-at"]


class CareRecord(Located):
    """Care for a worker (关心关爱): meals, lodging, protective gear, cold-weather supplies."""

    class Kind(models.TextChoices):
        MEALS = "meals", _("Meals")
        LODGING = "lodging", _("Lodging")
        GEAR = "gear", _("Protective gear")
        COLD = "cold", _("Cold-weather supplies")

    person = models.ForeignKey("accounts.User", models.CASCADE, related_name="care_records")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    day = models.DateField(_("day"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("care record")
        verbose_name_plural = _("care records")

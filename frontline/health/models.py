"""Health operations (DOMAIN.md §5): risk zones, testing rounds, home isolation, transfers to
isolation points, and scheduled care for people with special needs.

Every fact is `Located` where the work happens, so jurisdiction and rollups are the same
`within` / `visible_to` filter as everywhere. The services live per subdomain:
`zones.py`, `testing.py`, `isolation.py`, `transfers.py`, `care.py`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from frontline.territory.models import Located

USER = settings.AUTH_USER_MODEL


# --- Risk zones (风险分区) -------------------------------------------------------------------


class ZoneLevel(models.TextChoices):
    SEALED = "sealed", _("Sealed")  # 封控区
    CONTROLLED = "controlled", _("Controlled")  # 管控区
    PRECAUTION = "precaution", _("Precaution")  # 防范区


# The strictest zone in force wins where zones nest (a sealed building in a controlled
# compound is sealed).
ZONE_SEVERITY: dict[str, int] = {
    ZoneLevel.SEALED: 3,
    ZoneLevel.CONTROLLED: 2,
    ZoneLevel.PRECAUTION: 1,
}


class RiskZone(Located):
    """A region (any level) put under a zone level from `since` until it is lifted.

    Rows are never deleted or edited after the fact except to record the lift: the rows
    are the history (who set it, when, why; who lifted it, when, why). A zone is in force
    at `t` when `since <= t` and it is not lifted at or before `t`.
    """

    region = models.ForeignKey(
        "territory.Region", models.PROTECT, related_name="+", verbose_name=_("region")
    )
    level = models.CharField(_("zone"), max_length=12, choices=ZoneLevel.choices)
    since = models.DateTimeField(_("since"))
    reason = models.CharField(_("reason"), max_length=200)
    set_by = models.ForeignKey(USER, models.SET_NULL, null=True, blank=True, related_name="+")
    set_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lift_reason = models.CharField(_("reason for lifting"), max_length=200, blank=True)
    lifted_by = models.ForeignKey(USER, models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("risk zone")
        verbose_name_plural = _("risk zones")
        ordering = ["-since", "-id"]
        indexes = [
            models.Index(fields=["region", "since"]),
            models.Index(fields=["lifted_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.level}"


# --- Testing rounds (核酸检测) ---------------------------------------------------------------


class TestingRound(models.Model):
    """One round of testing on a day over a set of regions (应检尽检).

    Not `Located` itself: a round over a township is worked by the grid workers of each of
    its compounds, so it is visible to whoever's jurisdiction meets one of its regions
    (see `testing.rounds_visible_to`), and everything inside it (expected residents,
    samples, coverage) is confined to the caller's jurisdiction as usual.
    """

    __test__ = False  # not a pytest class

    name = models.CharField(pgettext_lazy("organisation", "name"), max_length=100)
    date = models.DateField(_("date"))
    # 混管: residents per pooled tube; 1 is single tubes (单管).
    tube_size = models.PositiveSmallIntegerField(_("residents per tube"), default=10)
    created_by = models.ForeignKey(USER, models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("testing round")
        verbose_name_plural = _("testing rounds")
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return self.name


class RoundRegion(Located):
    """A region a round covers; located at that region."""

    round = models.ForeignKey(TestingRound, models.CASCADE, related_name="regions")
    region = models.ForeignKey("territory.Region", models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "region"], name="round_region_unique")
        ]


class SamplingPoint(Located):
    """Where sampling happens in a round: a fixed point, or door to door (上门) in a region."""

    class Kind(models.TextChoices):
        POINT = "point", _("Sampling point")
        DOOR_TO_DOOR = "door", _("Door to door")

    round = models.ForeignKey(TestingRound, models.CASCADE, related_name="points")
    region = models.ForeignKey("territory.Region", models.PROTECT, related_name="+")
    name = models.CharField(pgettext_lazy("organisation", "name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.POINT)
    opens = models.TimeField(_("opens"), null=True, blank=True)
    closes = models.TimeField(_("closes"), null=True, blank=True)

    class Meta:
        ordering = ["round", "name", "id"]


class TubeResult(models.TextChoices):
    PENDING = "pending", _("Pending")
    NEGATIVE = "negative", _("Negative")
    POSITIVE = "positive", _("Positive")  # abnormal (异常): everyone in it is retested


class Tube(Located):
    """A (pooled) tube of a round. Located at the deepest region all its residents share."""

    round = models.ForeignKey(TestingRound, models.CASCADE, related_name="tubes")
    code = models.CharField(_("tube code"), max_length=40)
    result = models.CharField(
        _("result"), max_length=10, choices=TubeResult.choices, default=TubeResult.PENDING
    )
    result_at = models.DateTimeField(_("result at"), null=True, blank=True)
    collected_by = models.ForeignKey(USER, models.SET_NULL, null=True, blank=True, related_name="+")
    collected_at = models.DateTimeField(_("collected at"), default=timezone.now)
    point = models.ForeignKey(
        SamplingPoint, models.SET_NULL, null=True, blank=True, related_name="tubes"
    )

    class Meta:
        verbose_name = _("tube")
        verbose_name_plural = _("tubes")
        ordering = ["round", "code"]
        constraints = [
            models.UniqueConstraint(fields=["round", "code"], name="tube_code_unique_in_round")
        ]
        indexes = [models.Index(fields=["round", "result"])]

    def __str__(self) -> str:
        return self.code


class Sample(Located):
    """A resident sampled in a round, in one tube. Located at the resident's building."""

    round = models.ForeignKey(TestingRound, models.CASCADE, related_name="samples")
    tube = models.ForeignKey(Tube, models.CASCADE, related_name="samples")
    resident = models.ForeignKey("people.Resident", models.PROTECT, related_name="samples")
    collected_at = models.DateTimeField(_("collected at"), default=timezone.now)

    class Meta:
        verbose_name = _("sample")
        verbose_name_plural = _("samples")
        constraints = [
            # A resident is in at most one tube of a round: the database says so, so two
            # phones ticking the same person at once cannot both win.
            models.UniqueConstraint(fields=["round", "resident"], name="sample_once_per_round")
        ]


# --- Home isolation and health monitoring (居家隔离观察) --------------------------------------


class IsolationCategory(models.TextChoices):
    HOME_ISOLATION = "home_isolation", _("Home isolation")  # 居家隔离
    HOME_MONITORING = "home_monitoring", _("Home health monitoring")  # 居家健康监测


class IsolationCase(Located):
    """A resident under home isolation or monitoring, kept by one person (一人包一).

    Located at the resident's building.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Under observation")
        RELEASED = "released", _("Released")
        TRANSFERRED = "transferred", _("Transferred")

    resident = models.ForeignKey("people.Resident", models.PROTECT, related_name="isolation_cases")
    category = models.CharField(_("category"), max_length=20, choices=IsolationCategory.choices)
    # Why: returning from a risk area, a close contact of a case, ... (free text).
    reason = models.CharField(_("reason"), max_length=200)
    start = models.DateField(_("from"))
    planned_end = models.DateField(_("planned end"))
    keeper = models.ForeignKey(
        USER, models.PROTECT, related_name="isolation_cases", verbose_name=_("kept by")
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    opened_by = models.ForeignKey(USER, models.SET_NULL, null=True, blank=True, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_note = models.CharField(_("note"), max_length=200, blank=True)
    ended_by = models.ForeignKey(USER, models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("isolation case")
        verbose_name_plural = _("isolation cases")
        ordering = ["status", "planned_end", "id"]
        indexes = [models.Index(fields=["status", "keeper"])]
        constraints = [
            models.UniqueConstraint(
                fields=["resident"],
                condition=models.Q(status="open"),
                name="one_open_isolation_case_per_resident",
            )
        ]


class VisitSlot(models.TextChoices):
    MORNING = "am", _("Morning")
    EVENING = "pm", _("Afternoon")


class HealthVisit(Located):
    """One of the twice-daily visits to an isolated resident: temperature, symptoms, needs."""

    case = models.ForeignKey(IsolationCase, models.CASCADE, related_name="visits")
    day = models.DateField(_("day"))
    slot = models.CharField(_("visit"), max_length=2, choices=VisitSlot.choices)
    at = models.DateTimeField(_("at"), default=timezone.now)
    by = models.ForeignKey(USER, models.SET_NULL, null=True, blank=True, related_name="+")
    temperature = models.DecimalField(_("temperature (°C)"), max_digits=3, decimal_places=1)
    symptoms = models.CharField(_("symptoms"), max_length=200, blank=True)
    needs = models.CharField(_("needs"), max_length=200, blank=True)
    visitor = models.CharField(_("visitors"), max_length=100, blank=True)
    request = models.ForeignKey(
        "requests.Request", models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("health visit")
        verbose_name_plural = _("health visits")
        ordering = ["-day", "-slot", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "day", "slot"], name="one_visit_per_slot")
        ]

    @property
    def flagged(self) -> bool:
        """A fever or any symptom: the grid chief is told at once."""
        from decimal import Decimal

        fever = Decimal(str(settings.FRONTLINE_FEVER_CELSIUS))
        return self.temperature >= fever or bool(self.symptoms.strip())


class MissedVisit(Located):
    """A visit slot that passed without a visit: first the keeper is told, then the chief."""

    case = models.ForeignKey(IsolationCase, models.CASCADE, related_name="missed")
    day = models.DateField(_("day"))
    slot = models.CharField(_("visit"), max_length=2, choices=VisitSlot.choices)
    flagged_at = models.DateTimeField(default=timezone.now)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "day", "slot"], name="one_missed_per_slot")
        ]


# --- Isolation points and transfers (隔离点, 转运) ---------------------------------------------


class IsolationPoint(Located):
    """A centralised isolation point (hotel, school) with a capacity in rooms/beds."""

    name = models.CharField(pgettext_lazy("organisation", "name"), max_length=100)
    region = models.ForeignKey("territory.Region", models.PROTECT, related_name="+")
    address = models.CharField(_("address"), max_length=200, blank=True)
    capacity = models.PositiveIntegerField(_("capacity"))
    contact = models.CharField(_("contact"), max_length=32, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    active = models.BooleanField(_("in use"), default=True)
    staff: models.ManyToManyField = models.ManyToManyField(
        USER, blank=True, related_name="isolation_points"
    )

    class Meta:
        verbose_name = _("isolation point")
        verbose_name_plural = _("isolation points")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class DisinfectionLog(Located):
    """A daily disinfection (消杀) of an isolation point."""

    point = models.ForeignKey(IsolationPoint, models.CASCADE, related_name="disinfections")
    at = models.DateTimeField(_("at"), default=timezone.now)
    by = models.ForeignKey(USER, models.SET_NULL, null=True, blank=True, related_name="+")
    areas = models.CharField(_("areas"), max_length=200)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["-at", "-id"]


class TransferTeam(Located):
    """A transfer team (转运专班) with its vehicle."""

    name = models.CharField(pgettext_lazy("organisation", "name"), max_length=100)
    region = models.ForeignKey("territory.Region", models.PROTECT, related_name="+")
    vehicle = models.CharField(_("vehicle"), max_length=32, blank=True)
    leader = models.CharField(_("leader"), max_length=32, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    members: models.ManyToManyField = models.ManyToManyField(
        USER, blank=True, related_name="transfer_teams"
    )
    # Member names of people without an account (drivers, medical escorts).
    other_members = models.CharField(_("other members"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("transfer team")
        verbose_name_plural = _("transfer teams")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Stay(Located):
    """A person's stay at an isolation point, opened by a transfer, ended by a release.

    Located at the resident's home building (where they are counted and cared for).
    A point's occupancy is always the number of its stays with no `end`.
    """

    class Outcome(models.TextChoices):
        RELEASED = "released", _("Released home")
        HOSPITAL = "hospital", _("Transferred to hospital")
        MOVED = "moved", _("Moved to another point")

    resident = models.ForeignKey("people.Resident", models.PROTECT, related_name="stays")
    point = models.ForeignKey(IsolationPoint, models.PROTECT, related_name="stays")
    team = models.ForeignKey(
        TransferTeam, models.SET_NULL, null=True, blank=True, related_name="transfers"
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    start = models.DateTimeField(_("transferred at"))
    transferred_by = models.ForeignKey(
        USER, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    end = models.DateTimeField(_("ended at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    end_note = models.CharField(_("note"), max_length=200, blank=True)
    ended_by = models.ForeignKey(USER, models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("stay at an isolation point")
        verbose_name_plural = _("stays at isolation points")
        ordering = ["-start", "-id"]
        indexes = [models.Index(fields=["point", "end"])]
        constraints = [
            models.UniqueConstraint(
                fields=["resident"],
                condition=models.Q(end__isnull=True),
                name="one_open_stay_per_resident",
            )
        ]


# --- Care for people with special needs (重点人群服务) ---------------------------------------


class CareService(Located):
    """A scheduled service for one resident: a dialysis patient's closed-loop transport
    (闭环转运), an elderly person's daily visit, a pregnant woman's check-ups.

    The schedule is weekdays (ISO 1–7, e.g. "1,3,5") at a time; each occurrence is done
    (a `CareRecord`) or, past its grace period, missed. Located at the resident's building.
    """

    class Kind(models.TextChoices):
        DIALYSIS = "dialysis", _("Dialysis transport")
        ELDERLY_VISIT = "elderly_visit", _("Visit to an elderly person")
        PRENATAL = "prenatal", _("Prenatal check-up")
        OTHER = "other", _("Other care")

    resident = models.ForeignKey("people.Resident", models.PROTECT, related_name="care_services")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    weekdays = models.CharField(_("weekdays"), max_length=13)
    time = models.TimeField(_("time"))
    destination = models.CharField(_("destination"), max_length=100, blank=True)
    vehicle = models.CharField(_("vehicle"), max_length=32, blank=True)
    escort = models.CharField(_("escort"), max_length=32, blank=True)
    keeper = models.ForeignKey(
        USER, models.SET_NULL, null=True, blank=True, related_name="care_services"
    )
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    # Occurrences due before the service was set up are never "missed" (h-isolation).
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("care service")
        verbose_name_plural = _("care services")
        ordering = ["kind", "time", "id"]


class CareRecord(Located):
    """One occurrence of a care service: done (with a note), or missed."""

    class Status(models.TextChoices):
        DONE = "done", _("Done")
        MISSED = "missed", _("Missed")

    service = models.ForeignKey(CareService, models.CASCADE, related_name="records")
    due = models.DateTimeField(_("due"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices)
    at = models.DateTimeField(_("at"), default=timezone.now)
    by = models.ForeignKey(USER, models.SET_NULL, null=True, blank=True, related_name="+")
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["-due", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["service", "due"], name="one_record_per_occurrence")
        ]


class MedicalAssignment(Located):
    """Medical staff assigned to a controlled compound (or any region)."""

    region = models.ForeignKey("territory.Region", models.PROTECT, related_name="+")
    name = models.CharField(pgettext_lazy("person", "name"), max_length=32)
    organisation = models.CharField(_("hospital or clinic"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    user = models.ForeignKey(USER, models.SET_NULL, null=True, blank=True, related_name="+")
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        ordering = ["region", "name", "id"]

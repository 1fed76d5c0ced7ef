"""督查: inspections, the problems they notify (通报) to a place, and their rectification
(整改) to closure (销号). One schema; every write is in `services.py`, the overdue sweep in
`sweep.py`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from frontline.territory.models import LEVEL_FIELDS, Level, Located, Region, ScopedQuerySet


class Kind(models.TextChoices):
    UNANNOUNCED = "unannounced", pgettext_lazy("inspection kind", "Unannounced (四不两直)")
    ROUTINE = "routine", pgettext_lazy("inspection kind", "Routine")
    MARKET = "market", pgettext_lazy("inspection kind", "Market")


class Category(models.TextChoices):
    MEASURES = "measures", pgettext_lazy("problem category", "Control measures")
    ON_DUTY = "on_duty", pgettext_lazy("problem category", "Staff on duty")
    SUPPLIES = "supplies", pgettext_lazy("problem category", "Supplies")
    HYGIENE = "hygiene", pgettext_lazy("problem category", "Environment and hygiene")
    SERVICE = "service", pgettext_lazy("problem category", "Serving residents")
    OTHER = "other", pgettext_lazy("problem category", "Other")


class Severity(models.TextChoices):
    NORMAL = "normal", pgettext_lazy("problem severity", "Ordinary")
    SERIOUS = "serious", pgettext_lazy("problem severity", "Serious")


class Status(models.TextChoices):
    NOTIFIED = "notified", pgettext_lazy("problem status", "Notified")
    RECTIFYING = "rectifying", pgettext_lazy("problem status", "Rectifying")
    REPORTED = "reported", pgettext_lazy("problem status", "Rectified, awaiting check")
    VERIFIED = "verified", pgettext_lazy("problem status", "Verified and closed")
    WITHDRAWN = "withdrawn", pgettext_lazy("problem status", "Withdrawn")


OPEN_STATUSES = (Status.NOTIFIED, Status.RECTIFYING, Status.REPORTED)


class InspectionQuerySet(ScopedQuerySet):
    def touching(self, region: Region | None) -> InspectionQuerySet:
        """Inspections of a place in `region`, and those that notified a problem to a place
        in it: a community sees the township's inspection that found its problems."""
        if region is None:
            return self.none()
        if region.level == Level.CITY:
            return self.all()
        field = f"{LEVEL_FIELDS[region.level]}_id"
        found = Problem.objects.within(region).values("inspection_id")
        return self.filter(models.Q(**{field: region.pk}) | models.Q(pk__in=found))

    def visible_to(self, user: Any) -> InspectionQuerySet:
        """What `touching` gives for the account's jurisdiction (the policy's)."""
        from frontline.accounts.policy import policy_for

        return self.touching(policy_for(user).jurisdiction)


class Inspection(Located):
    """One inspection (督查) of a region, from a district down; a market inspection names
    the supplier it inspected. Visible where it was held and wherever it found a problem
    (`InspectionQuerySet.visible_to`); its problems are each visible only inside."""

    region = models.ForeignKey(
        "territory.Region", models.PROTECT, related_name="+", verbose_name=_("place inspected")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    supplier = models.ForeignKey(
        "requests.Supplier",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("supplier"),
    )
    date = models.DateField(_("date"))
    team = models.CharField(_("team"), max_length=100, blank=True)
    inspectors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("inspectors")
    )
    summary = models.TextField(_("summary"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = InspectionQuerySet.as_manager()  # type: ignore[misc]

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.date} {self.region_id}"


class ProblemQuerySet(ScopedQuerySet):
    def open(self) -> ProblemQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def overdue(self, now: dt.datetime | None = None) -> ProblemQuerySet:
        """Past the rectification date and not verified."""
        return self.open().filter(rectify_by__lt=now or timezone.now())


class Problem(Located):
    """A problem an inspection notified (通报) to a place, to be rectified by a date."""

    inspection = models.ForeignKey(
        Inspection, models.CASCADE, related_name="problems", verbose_name=_("inspection")
    )
    place = models.ForeignKey(
        "territory.Region", models.PROTECT, related_name="+", verbose_name=_("place")
    )
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    severity = models.CharField(
        _("severity"), max_length=16, choices=Severity.choices, default=Severity.NORMAL
    )
    description = models.TextField(_("description"))
    rectify_by = models.DateTimeField(_("rectify by"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.NOTIFIED
    )
    notified_at = models.DateTimeField(_("notified at"), default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now)
    # When the responsible place last reported it rectified, and when it was verified.
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)

    objects = ProblemQuerySet.as_manager()  # type: ignore[misc]

    class Meta:
        verbose_name = _("problem")
        verbose_name_plural = _("problems")
        ordering = ["rectify_by", "id"]
        indexes = [
            models.Index(fields=["status", "rectify_by"]),
            models.Index(fields=["district", "status"]),
            models.Index(fields=["township", "status"]),
            models.Index(fields=["community", "status"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_category_display()}"

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        return self.status in OPEN_STATUSES and self.rectify_by < (now or timezone.now())


class ProblemEvent(models.Model):
    """One step of a problem: who moved it, when, from which state to which, and why."""

    problem = models.ForeignKey(Problem, models.CASCADE, related_name="events")
    step = models.CharField(_("step"), max_length=16)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(_("by"), max_length=150, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("problem step")
        verbose_name_plural = _("problem steps")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.problem_id} {self.from_status}→{self.to_status}"


class Escalation(Located):
    """An overdue problem under supervision, held by one region at a time: first the place
    responsible (its community, or the place itself when higher), then one level up the
    region tree per escalation. Closed when the problem is verified."""

    problem = models.ForeignKey(Problem, models.CASCADE, related_name="escalations")
    holder = models.ForeignKey(
        "territory.Region", models.PROTECT, related_name="+", verbose_name=_("held by")
    )
    level = models.PositiveSmallIntegerField(_("escalations"), default=0)
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    escalated_at = models.DateTimeField(_("escalated at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["problem"],
                condition=models.Q(closed_at__isnull=True),
                name="escalation_one_open_per_problem",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.problem_id} @{self.holder_id} +{self.level}"

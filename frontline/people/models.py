"""Households and residents, located in the region tree like every other fact."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from frontline.territory.models import Located

from .labels import CARE_GROUP_LABELS


class CareGroup(models.TextChoices):
    """Groups needing care (重点人群). The Chinese labels are what census sheets carry."""

    ELDERLY_ALONE = "elderly_alone", pgettext_lazy("care group", "Elderly living alone")
    PREGNANT = "pregnant", pgettext_lazy("care group", "Pregnant")
    INFANT = "infant", pgettext_lazy("care group", "Infant")
    DISABLED = "disabled", pgettext_lazy("care group", "Disabled")
    DIALYSIS = "dialysis", pgettext_lazy("care group", "Dialysis")
    SUBSISTENCE = "subsistence", pgettext_lazy("care group", "Subsistence allowance")
    FIVE_GUARANTEES = "five_guarantees", pgettext_lazy("care group", "Five guarantees")
    EXTREME_HARDSHIP = "extreme_hardship", pgettext_lazy("care group", "Extreme hardship")


class Household(Located):
    """A dwelling (户): building, unit entrance, room.

    The member counts are kept by the census services so that "households where nobody
    can order online" is an indexed count, not a subquery per household.
    """

    unit = models.CharField(_("unit entrance"), max_length=16, blank=True)
    room = models.CharField(_("room"), max_length=16)
    phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    members = models.PositiveIntegerField(_("members"), default=0)
    members_away = models.PositiveIntegerField(_("members away"), default=0)
    online_members = models.PositiveIntegerField(_("members who order online"), default=0)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        constraints = [
            models.UniqueConstraint(
                fields=["building", "unit", "room"], name="household_unique_address"
            ),
        ]
        indexes = [models.Index(fields=["online_members"])]

    def __str__(self) -> str:
        return self.address

    @property
    def address(self) -> str:
        building = self.building.path if self.building is not None else ""
        return " ".join(part for part in (building, self.unit_label, self.room_label) if part)

    @property
    def unit_label(self) -> str:
        if not self.unit:
            return ""
        return self.unit if not self.unit.isdigit() else f"{self.unit}单元"

    @property
    def room_label(self) -> str:
        return self.room if not self.room.isdigit() else f"{self.room}室"

    @property
    def lived_in(self) -> bool:
        """实居: someone lives there now (not everybody is away)."""
        return self.members > self.members_away


class Resident(Located):
    class Sex(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    household = models.ForeignKey(
        Household, models.PROTECT, related_name="residents", verbose_name=_("household")
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=32, db_index=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    # GB 11643: sensitive. Shown masked except to the roles allowed to see it.
    id_number = models.CharField(_("ID number"), max_length=18, unique=True)
    birth_date = models.DateField(_("birth date"))
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    # The last four digits of the phone, indexed: what people say at a gate.
    phone_tail = models.CharField(max_length=4, blank=True, db_index=True, editable=False)
    work_unit = models.CharField(_("work unit"), max_length=100, blank=True)
    is_party_member = models.BooleanField(_("party member"), default=False)
    # None: the census did not record it (the sheet's cell was empty).
    can_order_online = models.BooleanField(_("can order online"), null=True)
    away = models.BooleanField(_("away"), default=False)
    health_notes = models.TextField(_("health notes"), blank=True)
    # Whom to call when the resident cannot be reached (often an elderly person living
    # alone without a phone): a child or a neighbour. The phone is masked like any phone.
    emergency_name = models.CharField(_("emergency contact"), max_length=32, blank=True)
    emergency_relation = models.CharField(
        _("emergency contact's relation"), max_length=16, blank=True
    )
    emergency_phone = models.CharField(_("emergency phone"), max_length=20, blank=True)
    # 与户主关系 as the census sheet gives it (户主, 配偶, 子女, 父母, 其他, ...); "" unknown.
    relation_to_head = models.CharField(
        _("relation to the head of household"), max_length=16, blank=True
    )

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["household_id", "birth_date"]
        # "How many are away" is on every dashboard: without an index it is the one
        # sequential scan of the stats (60 ms of 123 at a million residents).
        indexes = [models.Index(fields=["is_party_member"]), models.Index(fields=["away"])]

    def __str__(self) -> str:
        return self.name

    @property
    def age(self) -> int:
        """The age reached this calendar year, in whole years.

        Not the age to the day: that changes on the birthday, so a role that sees the ID
        masked could poll a list daily, learn the birthday, and with it the eight hidden
        digits of the ID. The age this year changes for everybody on 1 January.
        """
        from django.utils import timezone

        return timezone.localdate().year - self.birth_date.year

    def care_group_codes(self) -> list[str]:
        return [m.group for m in self.care_groups.all()]

    def care_group_labels(self) -> list[str]:
        return [CARE_GROUP_LABELS[code] for code in self.care_group_codes()]


class ResidentCareGroup(Located):
    """One care group of one resident, located so that per-group counts are indexed."""

    resident = models.ForeignKey(Resident, models.CASCADE, related_name="care_groups")
    group = models.CharField(_("care group"), max_length=20, choices=CareGroup.choices)

    class Meta:
        verbose_name = _("care group membership")
        verbose_name_plural = _("care group memberships")
        constraints = [
            models.UniqueConstraint(fields=["resident", "group"], name="care_group_unique"),
        ]
        indexes = [models.Index(fields=["group"])]


class Visit(Located):
    """A door visit (走访) to a household, located at its building like every fact.

    `day` is the local date of the visit, stored so that "visited today" is an indexed
    equality and not a timezone-shifted range over `at`.
    """

    class Outcome(models.TextChoices):
        VISITED = "visited", pgettext_lazy("visit outcome", "Visited")
        NOBODY_HOME = "nobody_home", pgettext_lazy("visit outcome", "Nobody home")
        REFUSED = "refused", pgettext_lazy("visit outcome", "Refused")

    class Purpose(models.TextChoices):
        CENSUS = "census", pgettext_lazy("visit purpose", "Census check")
        CARE = "care", pgettext_lazy("visit purpose", "Care visit")
        NOTICE = "notice", pgettext_lazy("visit purpose", "Notice delivered")
        OTHER = "other", pgettext_lazy("visit purpose", "Other")

    household = models.ForeignKey(
        Household, models.CASCADE, related_name="visits", verbose_name=_("household")
    )
    at = models.DateTimeField(_("at"))
    day = models.DateField(_("day"))
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    note = models.TextField(_("note"), blank=True)
    needs = models.TextField(_("needs noticed"), blank=True)
    visitor = models.ForeignKey(
        "accounts.User",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("visitor"),
    )
    visitor_name = models.CharField(_("visitor"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["day", "compound"]),
            models.Index(fields=["household", "day"]),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.day} {self.outcome}"


class ImportJob(Located):
    """A census sheet checked or written by the background worker (`frontline worker`).

    A sheet above FRONTLINE_WEB_IMPORT_INLINE_ROWS is too large to check or write while a
    browser waits: the upload makes a job, the worker runs it as its uploader (who may have
    lost the right meanwhile: the import asks the policy again), and the page polls it.
    Located at the uploader's jurisdiction; only the uploader sees it.
    """

    class Kind(models.TextChoices):
        PREVIEW = "preview", pgettext_lazy("import job", "Check")
        COMMIT = "commit", pgettext_lazy("import job", "Import")

    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("import job", "Queued")
        RUNNING = "running", pgettext_lazy("import job", "Running")
        DONE = "done", pgettext_lazy("import job", "Done")
        FAILED = "failed", pgettext_lazy("import job", "Failed")

    uploader = models.ForeignKey(
        "accounts.User", models.CASCADE, related_name="import_jobs", verbose_name=_("uploader")
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    filename = models.CharField(_("file name"), max_length=255)
    # The sheet waits in UPLOAD_DIR as "<uploader id>-<token><extension>".
    token = models.CharField(max_length=32)
    extension = models.CharField(max_length=8)
    # The uploader's language when they uploaded: the messages are written in it.
    language = models.CharField(max_length=16, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    # The commit of a checked sheet names its check; one commit per check.
    preview = models.OneToOneField(
        "self", models.SET_NULL, null=True, blank=True, related_name="commit_job"
    )
    phase = models.CharField(max_length=10, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)  # 0: not known yet
    # The import's result, pickled by the worker (ours alone; never from an upload).
    result = models.BinaryField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["uploader", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.filename}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int | None:
        if not self.rows_total:
            return None
        return min(100, self.rows_done * 100 // self.rows_total)

"""Requests (诉求) and their five orders (五单): received → dispatched → delivering →
reported → closed, plus cancelled and the return of a request to received.

A request is a located fact like a household: stamped with its household's building and
ancestors, so "open requests in 安康小区" is one indexed filter and the jurisdiction
policy confines it like everything else. The state moves only through
`services.request_transition`, one conditional UPDATE per step, and every step leaves a
`RequestEvent` (who, when, from, to, note).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from frontline.territory.models import Located, ScopedQuerySet


class Category(models.TextChoices):
    GROCERIES = "groceries", pgettext_lazy("request category", "Groceries")
    MEDICINE = "medicine", pgettext_lazy("request category", "Medicine")
    MEDICAL = "medical", pgettext_lazy("request category", "Medical care / dialysis")
    REPAIR = "repair", pgettext_lazy("request category", "Repair")
    COUNSELLING = "counselling", pgettext_lazy("request category", "Counselling")
    CONSULTATION = "consultation", pgettext_lazy("request category", "Policy question")
    OTHER = "other", pgettext_lazy("request category", "Other")


class Urgency(models.TextChoices):
    URGENT = "urgent", pgettext_lazy("request urgency", "Urgent")
    NORMAL = "normal", pgettext_lazy("request urgency", "Normal")


class Channel(models.TextChoices):
    GRID_WORKER = "grid_worker", pgettext_lazy("request channel", "Grid worker")
    HOTLINE = "hotline", pgettext_lazy("request channel", "Hotline")
    WECHAT = "wechat", pgettext_lazy("request channel", "WeChat group")
    RESIDENT = "resident", pgettext_lazy("request channel", "Resident's own page")


class Status(models.TextChoices):
    RECEIVED = "received", pgettext_lazy("request status", "Received")
    DISPATCHED = "dispatched", pgettext_lazy("request status", "Dispatched")
    DELIVERING = "delivering", pgettext_lazy("request status", "Delivering")
    REPORTED = "reported", pgettext_lazy("request status", "Reported")
    CLOSED = "closed", pgettext_lazy("request status", "Closed")
    CANCELLED = "cancelled", pgettext_lazy("request status", "Cancelled")


# The five orders' own names, as the seed and every community say them: the API's
# `status_label` is these, whatever the caller's language (like the census sheet's labels,
# they are vocabulary, not UI text to translate).
STATUS_CHINESE = {
    "received": "接单",
    "dispatched": "派单",
    "delivering": "送单",
    "reported": "交单",
    "closed": "消单",
    "cancelled": "已取消",
}

OPEN_STATUSES = (Status.RECEIVED, Status.DISPATCHED, Status.DELIVERING, Status.REPORTED)
DONE_STATUSES = (Status.CLOSED, Status.CANCELLED)


class RequestQuerySet(ScopedQuerySet):
    def open(self) -> RequestQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def overdue(self, now=None) -> RequestQuerySet:
        """Open requests past a time limit: not dispatched in time, or not closed in time."""
        now = now or timezone.now()
        return self.filter(
            models.Q(status=Status.RECEIVED, dispatch_due__lt=now)
            | models.Q(status__in=OPEN_STATUSES, close_due__lt=now)
        )


class Request(Located):
    """One resident need (诉求), from receipt to close."""

    number = models.CharField(_("number"), max_length=16, db_index=True)
    # The local day and its city-wide sequence number: the number is Q<MMDD>-<seq>.
    day = models.DateField(_("day"))
    seq = models.PositiveIntegerField()
    household = models.ForeignKey(
        "people.Household", models.PROTECT, related_name="requests", verbose_name=_("household")
    )
    resident = models.ForeignKey(
        "people.Resident",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="requests",
        verbose_name=_("resident"),
    )
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    urgency = models.CharField(
        _("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL
    )
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel.choices, default=Channel.GRID_WORKER
    )
    description = models.TextField(_("description"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.RECEIVED
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_requests",
        verbose_name=_("assignee"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registered by"),
    )
    created_at = models.DateTimeField(_("received at"), default=timezone.now)
    status_changed_at = models.DateTimeField(_("status changed at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Deadlines fixed when the request is received, from the limits in force then, so that
    # "overdue" is an indexed comparison and a later change of limits does not rewrite
    # history.
    dispatch_due = models.DateTimeField(_("dispatch due"))
    close_due = models.DateTimeField(_("close due"))
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True)
    # A possible duplicate: another open request of the same household and category when
    # this one was received. Linked for a person to judge, never merged.
    duplicate_of = models.ForeignKey(
        "self",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="possible_duplicates",
        verbose_name=_("possible duplicate of"),
    )
    idempotency_key = models.CharField(max_length=100, blank=True)

    objects = RequestQuerySet.as_manager()  # type: ignore[misc]

    class Meta:
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["day", "seq"], name="request_unique_number"),
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="request_unique_idempotency_key",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "compound"]),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["household", "category", "status"]),
            models.Index(fields=["status", "close_due"]),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, now=None) -> bool:
        now = now or timezone.now()
        if self.status == Status.RECEIVED and self.dispatch_due < now:
            return True
        return self.is_open and self.close_due < now

    @property
    def overdue(self) -> bool:
        return self.is_overdue()


class RequestEvent(models.Model):
    """One step of a request: who moved it, when, from which state to which, and why."""

    request = models.ForeignKey(Request, models.CASCADE, related_name="events")
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
        verbose_name = _("request step")
        verbose_name_plural = _("request steps")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.request_id} {self.from_status}→{self.to_status}"


class DaySequence(models.Model):
    """The last request number given out on a day, city-wide."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class Supervision(Located):
    """督办: an overdue request under supervision, held by one grid at a time.

    Opened at the grid that covers the request's place; each escalation moves it one grid
    level up (`level` counts the escalations). Closed when the request is no longer overdue
    (dispatched, closed or cancelled).
    """

    class Reason(models.TextChoices):
        DISPATCH = "dispatch", pgettext_lazy("supervision reason", "Not dispatched in time")
        CLOSE = "close", pgettext_lazy("supervision reason", "Not closed in time")

    request = models.ForeignKey(Request, models.CASCADE, related_name="supervisions")
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    grid = models.ForeignKey(
        "territory.Grid",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("grid"),
    )
    level = models.PositiveSmallIntegerField(_("escalations"), default=0)
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    escalated_at = models.DateTimeField(_("escalated at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("supervision")
        verbose_name_plural = _("supervisions")
        ordering = ["-opened_at", "-id"]
        constraints = [
            # At most one open supervision per request, even with two sweeps at once.
            models.UniqueConstraint(
                fields=["request"],
                condition=models.Q(closed_at__isnull=True),
                name="supervision_one_open_per_request",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} ({self.level})"


class Notification(models.Model):
    """One message in a person's in-app inbox (the default notification channel)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="notifications"
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.subject


class ResidentLink(models.Model):
    """The household's own link (and QR code): signed with the household and `version`;
    revoking bumps the version, so every copy printed before stops working."""

    household = models.OneToOneField(
        "people.Household", models.CASCADE, related_name="resident_link"
    )
    version = models.PositiveIntegerField(default=1)
    active = models.BooleanField(default=True)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("household link")
        verbose_name_plural = _("household links")

    def __str__(self) -> str:
        return f"{self.household_id} v{self.version}"


class Supplier(Located):
    """A supply-guarantee enterprise or store (保供企业 / 门店), located at the area it serves."""

    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", pgettext_lazy("supplier kind", "Supply-guarantee enterprise")
        STORE = "store", pgettext_lazy("supplier kind", "Store")

    name = models.CharField(pgettext_lazy("supplier", "name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    area = models.ForeignKey(
        "territory.Region", models.PROTECT, related_name="+", verbose_name=_("area served")
    )
    contact_name = models.CharField(_("contact"), max_length=32, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    supplies = models.TextField(_("supplies"), blank=True)

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class GroupOrder(Located):
    """统一订购: one order per building or compound, to one supplier, delivered to each door."""

    class Status(models.TextChoices):
        COLLECTING = "collecting", pgettext_lazy("group order", "Collecting")
        ORDERED = "ordered", pgettext_lazy("group order", "Ordered")
        DELIVERED = "delivered", pgettext_lazy("group order", "Delivered")

    region = models.ForeignKey(
        "territory.Region", models.PROTECT, related_name="+", verbose_name=_("where")
    )
    supplier = models.ForeignKey(
        Supplier, models.PROTECT, related_name="orders", verbose_name=_("supplier")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.COLLECTING
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    ordered_at = models.DateTimeField(_("ordered at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("group order")
        verbose_name_plural = _("group orders")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.region} · {self.supplier}"


class GroupOrderLine(models.Model):
    """One household's part of a group order; confirmed at its door (contactless)."""

    order = models.ForeignKey(GroupOrder, models.CASCADE, related_name="lines")
    household = models.ForeignKey(
        "people.Household", models.PROTECT, related_name="+", verbose_name=_("household")
    )
    items = models.TextField(_("items"), blank=True)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=10, decimal_places=2, default=0)
    request = models.ForeignKey(Request, models.SET_NULL, null=True, blank=True, related_name="+")
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("group order line")
        verbose_name_plural = _("group order lines")
        ordering = ["household_id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "household"], name="group_order_one_line"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.household_id}"


class RequestPhoto(models.Model):
    """A photo given with a request when it is registered, or with its 交单 (report).

    The image lives in the private photo folder (FRONTLINE_PHOTO_DIR, mode 0600), never
    under a public URL: it is served only by a view that checks the request is visible to
    the caller, or that the household's own link is the request's household.
    """

    request = models.ForeignKey(Request, models.CASCADE, related_name="photos")
    step = models.CharField(_("step"), max_length=16)  # "receive" or "report"
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    # Relative to FRONTLINE_PHOTO_DIR; a random name, never the uploader's file name.
    path = models.CharField(max_length=128, unique=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_by_name = models.CharField(_("by"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.request_id}/{self.pk}"

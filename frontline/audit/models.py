"""The audit trail: who did what to whose data (PIPL Art. 51 and 54, GB/T 35273 §11).

Append-only. Rows are written by `frontline.audit.services.audit_record` from the
services, one INSERT each, and never changed or removed by the app: the model refuses
saves of existing rows and deletes, the queryset refuses bulk updates and deletes, and
database triggers (`triggers.py`, installed by migration 0002) refuse UPDATE and DELETE
from any client, raw SQL included.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    SIGN_IN = "sign_in", _("Signed in")
    SIGN_IN_FAILED = "sign_in_failed", _("Failed sign-in")
    SIGN_OUT = "sign_out", _("Signed out")
    LOCKED_OUT = "locked_out", _("Locked out")
    VIEW_HOUSEHOLD = "view_household", _("Viewed a household")
    VIEW_RESIDENT = "view_resident", _("Viewed a resident")
    SEARCH = "search", _("Searched residents")
    EXPORT = "export", _("Exported the census")
    IMPORT = "import", _("Imported a census sheet")
    IMPORT_REFUSED = "import_refused", _("Census import refused")
    REVEAL = "reveal", _("Revealed a full identifier")
    ACCOUNT_CREATE = "account_create", _("Created an account")
    ACCOUNT_CHANGE = "account_change", _("Changed an account")
    PASSWORD_CHANGE = "password_change", _("Changed a password")
    TOKEN_CREATE = "token_create", _("Issued an API token")
    TOKEN_REVOKE = "token_revoke", _("Revoked an API token")
    REGION_MOVE = "region_move", _("Moved a region")
    REGION_RENAME = "region_rename", _("Renamed a region")
    TRANSFER = "transfer", _("Transferred a resident")
    REQUEST_CREATE = "request_create", _("Registered a request")
    REQUEST_STEP = "request_step", _("Moved a request a step")
    VIEW_REQUEST = "view_request", _("Viewed a request")
    IMPORT_CADRES = "import_cadres", _("Imported a cadre roster")
    REPORT_DECISION = "report_decision", _("Confirmed or rejected a party member report")
    # Health: isolation points and transfers (h-transfers).
    POINT_CHANGE = "point_change", _("Created or changed an isolation point")
    TEAM_CHANGE = "team_change", _("Created or changed a transfer team")
    DISINFECTION = "disinfection", _("Recorded a disinfection")
    ISOLATION_TRANSFER = "isolation_transfer", _("Transferred a person to an isolation point")
    STAY_END = "stay_end", _("Ended a stay at an isolation point")
    # Home isolation and care services (health, h-isolation).
    ISOLATION_OPEN = "isolation_open", _("Opened a home-isolation case")
    ISOLATION_CHANGE = "isolation_change", _("Reassigned or released a home-isolation case")
    HEALTH_VISIT = "health_visit", _("Recorded a health visit")
    CARE_SERVICE = "care_service", _("Set up a care service")
    CARE_SERVICE_END = "care_service_end", _("Ended a care service")
    CARE_RECORD = "care_record", _("Recorded a care service")
    MEDICAL_ASSIGNMENT = "medical_assignment", _("Assigned or ended medical staff")
    # Testing rounds (frontline.health.testing, results).
    ROUND_CREATE = "round_create", _("Created a testing round")
    SAMPLING_POINT = "sampling_point", _("Set up, changed or removed a sampling point")
    TUBE_RECORD = "tube_record", _("Recorded a tube of samples")
    RESULT_SET = "result_set", _("Entered a tube's result")
    IMPORT_RESULTS = "import_results", _("Imported lab results")
    # Health: risk zones (h-zones).
    ZONE_SET = "zone_set", _("Set a risk zone")
    ZONE_LIFT = "zone_lift", _("Lifted a risk zone")
    # Mobilisation pages (units, cadres, deployments, branches, the pipeline).
    MOBILISATION = "mobilisation", _("Changed units, cadres, deployments or branches")
    # Supervision (督查): inspections and the rectification of their problems.
    INSPECTION_CREATE = "inspection_create", _("Recorded an inspection")
    PROBLEM_STEP = "problem_step", _("Moved an inspection problem a step")


class AuditQuerySet(models.QuerySet):
    def visible_to(self, user) -> AuditQuerySet:
        """The events `user` may read, as the jurisdiction policy says.

        READ_AUDIT with a city-wide jurisdiction reads everything (sign-ins carry no
        region); a narrower jurisdiction (a superuser scoped to a district) reads the
        events about places inside it; everybody else reads nothing.
        """
        from frontline.accounts.policy import Action, policy_for
        from frontline.territory.models import Level

        policy = policy_for(user)
        home = policy.jurisdiction
        if home is None or not policy.can(Action.READ_AUDIT):
            return self.none()
        if home.level == Level.CITY:
            return self.all()
        return self.filter(
            models.Q(region=home.path) | models.Q(region__startswith=home.path + "/")
        )

    def update(self, **kwargs):
        raise TypeError("the audit trail is append-only")

    def delete(self):
        raise TypeError("the audit trail is append-only")


class AuditEvent(models.Model):
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    # The account, and its username as it was: the row outlives a renamed or removed one.
    # DO_NOTHING and no constraint: deleting an account must not UPDATE its events
    # (SET_NULL would, and the database refuses any UPDATE here); `actor_name` keeps who
    # it was, and `actor_id` may then point at no row.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        verbose_name=_("actor"),
    )
    actor_name = models.CharField(_("actor"), max_length=150, blank=True, db_index=True)
    action = models.CharField(_("action"), max_length=32, choices=AuditAction.choices)
    object_type = models.CharField(_("object type"), max_length=32, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    # Where the data lives (the region path), so a district can later read its own part.
    region = models.CharField(_("region"), max_length=400, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["actor_name", "at"]),
            models.Index(fields=["action", "at"]),
            models.Index(fields=["object_type", "object_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("the audit trail is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("the audit trail is append-only")

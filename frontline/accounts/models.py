"""Accounts: every account has one role and one jurisdiction (a region subtree)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CITY_ADMIN = "city_admin", _("City administrator")
    DISTRICT_STAFF = "district_staff", _("District staff")
    TOWNSHIP_STAFF = "township_staff", _("Township staff")
    COMMUNITY_STAFF = "community_staff", _("Community staff")
    GRID_CHIEF = "grid_chief", _("Grid chief")
    GRID_WORKER = "grid_worker", _("Grid worker")
    CADRE = "cadre", _("Deployed cadre")
    VOLUNTEER = "volunteer", _("Volunteer")


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, blank=True)
    region = models.ForeignKey(
        "territory.Region",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="accounts",
        verbose_name=_("jurisdiction"),
        help_text=_("The account sees this region and everything under it, nothing else."),
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")

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


# Personal-information protection: minimum necessary. Staff who run the census and
# verify identities see ID numbers in full; those who phone residents see phones; the
# rest (deployed cadres, volunteers) see both masked.
FULL_ID_ROLES = frozenset(
    {Role.CITY_ADMIN, Role.DISTRICT_STAFF, Role.TOWNSHIP_STAFF, Role.COMMUNITY_STAFF}
)
FULL_PHONE_ROLES = FULL_ID_ROLES | {Role.GRID_CHIEF, Role.GRID_WORKER}
# Who may bring a census sheet in (it creates and changes residents in their jurisdiction).
CENSUS_IMPORT_ROLES = FULL_ID_ROLES
# Exports carry ID numbers in full so that they round-trip into an import.
CENSUS_EXPORT_ROLES = FULL_ID_ROLES


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

    @property
    def sees_full_id_numbers(self) -> bool:
        return self.is_superuser or self.role in FULL_ID_ROLES

    @property
    def sees_full_phones(self) -> bool:
        return self.is_superuser or self.role in FULL_PHONE_ROLES

    @property
    def can_import_census(self) -> bool:
        return self.is_superuser or self.role in CENSUS_IMPORT_ROLES

    @property
    def can_export_census(self) -> bool:
        return self.is_superuser or self.role in CENSUS_EXPORT_ROLES

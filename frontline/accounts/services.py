"""Creating accounts and their API tokens."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from frontline.audit.models import AuditAction
from frontline.audit.services import audit_record
from frontline.core.errors import DomainError
from frontline.territory.models import Level, Region

from .models import Role, User
from .policy import forget_policy

# The highest level an account of each role may be scoped to, and the lowest. A grid
# worker's jurisdiction is a compound (or a community for a community grid), never a
# whole district; a district's staff work at a district.
ROLE_LEVELS: dict[str, tuple[int, int]] = {
    Role.CITY_ADMIN: (Level.CITY, Level.CITY),
    Role.DISTRICT_STAFF: (Level.DISTRICT, Level.DISTRICT),
    Role.TOWNSHIP_STAFF: (Level.TOWNSHIP, Level.TOWNSHIP),
    Role.COMMUNITY_STAFF: (Level.COMMUNITY, Level.COMMUNITY),
    Role.GRID_CHIEF: (Level.DISTRICT, Level.COMPOUND),
    Role.GRID_WORKER: (Level.COMMUNITY, Level.COMPOUND),
    Role.CADRE: (Level.CITY, Level.COMPOUND),
    Role.VOLUNTEER: (Level.COMMUNITY, Level.COMPOUND),
}


def check_role_region(role: str, region: Region | None, *, superuser: bool = False) -> None:
    """Refuse a role scoped to a region of the wrong level (the one rule for the CLI, the
    services and the admin's account form). A superuser may have no role: it is then the
    deployment's operator, confined only by the region it may have."""
    if not role and superuser:
        return
    if not role:
        raise DomainError(_("An account needs a role."))
    if role not in Role.values:
        raise DomainError(
            _("Unknown role “%(role)s”; one of: %(roles)s")
            % {"role": role, "roles": ", ".join(Role.values)}
        )
    if region is None:
        raise DomainError(_("An account with a role needs a jurisdiction."))
    high, low = ROLE_LEVELS[role]
    if not high <= region.level <= low:
        raise DomainError(
            _("A %(role)s account cannot be scoped to %(region)s (%(level)s).")
            % {
                "role": Role(role).label,
                "region": region,
                "level": region.get_level_display(),
            }
        )


@transaction.atomic
def user_create(
    *,
    username: str,
    role: str,
    region: Region,
    password: str | None = None,
    full_name: str = "",
    phone: str = "",
    actor: User | None = None,
    ip: str | None = None,
) -> User:
    """Create an account; `actor` is who does it (None: the system, e.g. `adduser`)."""
    username = username.strip()
    if not username:
        raise DomainError(_("A username is required."))
    check_role_region(role, region)
    if User.objects.filter(username=username).exists():
        raise DomainError(_("The username “%(username)s” is taken.") % {"username": username})
    user = User(username=username, role=role, region=region, first_name=full_name, phone=phone)
    if password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise DomainError(" ".join(exc.messages)) from exc
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    audit_record(
        actor=actor,
        action=AuditAction.ACCOUNT_CREATE,
        object_type="account",
        object_id=user.pk,
        region=region,
        detail={"username": user.username, **_audited_state(user)},
        ip=ip,
    )
    return user


# Fields whose old and new values the trail keeps: who the account is and what it may do.
# Personal details (names, e-mail, phone) are recorded as changed, without their values;
# passwords never appear (they change through their own form and their own event).
_AUDITED_VALUES = ("username", "role", "region", "is_active", "is_staff", "is_superuser")
_AUDITED_NAMES = ("first_name", "last_name", "email", "phone")


def _audited_state(user: User) -> dict[str, Any]:
    region = user.region
    return {
        "role": user.role,
        "region": region.display_path if region is not None else "",
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
    }


@transaction.atomic
def user_update(
    *, user: User, actor: User | None = None, ip: str | None = None, **changes: Any
) -> User:
    """Change an account's fields (any of `_AUDITED_VALUES` and `_AUDITED_NAMES`), check
    the role against the jurisdiction, save, and audit what changed with old → new."""
    unknown = set(changes) - set(_AUDITED_VALUES) - set(_AUDITED_NAMES)
    if unknown:
        raise TypeError(f"user_update cannot change {sorted(unknown)}")
    before = {"username": user.username, **_audited_state(user)}
    for name, value in changes.items():
        setattr(user, name, value)
    if "username" in changes:
        user.username = (user.username or "").strip()
        if not user.username:
            raise DomainError(_("A username is required."))
        taken = User.objects.filter(username=user.username).exclude(pk=user.pk)
        if taken.exists():
            raise DomainError(
                _("The username “%(username)s” is taken.") % {"username": user.username}
            )
    check_role_region(user.role, user.region, superuser=user.is_superuser)
    after = {"username": user.username, **_audited_state(user)}
    diff: dict[str, Any] = {
        name: {"from": before[name], "to": after[name]}
        for name in before
        if before[name] != after[name]
    }
    named = sorted(name for name in _AUDITED_NAMES if name in changes)
    if named:
        diff["changed"] = named
    user.save(update_fields=list(changes) or None)
    if diff:
        forget_policy(user)
        audit_record(
            actor=actor,
            action=AuditAction.ACCOUNT_CHANGE,
            object_type="account",
            object_id=user.pk,
            region=user.region,
            detail={"username": user.username, **diff},
            ip=ip,
        )
    return user


def user_token(*, user: User) -> str:
    token, _created = Token.objects.get_or_create(user=user)
    return token.key

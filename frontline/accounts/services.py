"""Creating accounts and their API tokens."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from frontline.core.errors import DomainError
from frontline.territory.models import Level, Region

from .models import Role, User

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


@transaction.atomic
def user_create(
    *,
    username: str,
    role: str,
    region: Region,
    password: str | None = None,
    full_name: str = "",
    phone: str = "",
) -> User:
    username = username.strip()
    if not username:
        raise DomainError(_("A username is required."))
    if role not in Role.values:
        raise DomainError(
            _("Unknown role “%(role)s”; one of: %(roles)s")
            % {"role": role, "roles": ", ".join(Role.values)}
        )
    high, low = ROLE_LEVELS[role]
    if not high <= region.level <= low:
        raise DomainError(
            _("A %(role)s account cannot be scoped to %(region)s (%(level)s).")
            % {"role": role, "region": region, "level": region.get_level_display()}
        )
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
    return user


def user_token(*, user: User) -> str:
    token, _created = Token.objects.get_or_create(user=user)
    return token.key

"""Creating accounts, changing passwords, and issuing and revoking API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from frontline.audit.models import AuditAction
from frontline.audit.services import audit_record
from frontline.core.errors import DomainError, NotFound
from frontline.territory.models import Level, Region

from .models import ApiToken, Role, User
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
    # Tells the password-change hook that this is a new account, not a change.
    user._password_is_new = True  # type: ignore[attr-defined]
    user.save()
    del user._password_is_new  # type: ignore[attr-defined]
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
    if before["is_active"] and not after["is_active"]:
        # A deactivated account's tokens die with it, not only while it stays inactive.
        tokens_revoke_all(user=user, reason="deactivated", actor=actor, ip=ip)
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


def password_change(*, user: User, password: str, actor: Any = None, ip: str | None = None) -> User:
    """Validate and set a password. Saving it revokes the account's API tokens and is
    audited (see `passwords.RevokeTokensOnPasswordChange`), with `actor` as who did it."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages)) from exc
    user.set_password(password)
    user._password_changed_by = (actor, ip)  # type: ignore[attr-defined]
    user.save(update_fields=["password"])
    return user


def user_deactivate(*, user: User, actor: Any = None, ip: str | None = None) -> User:
    """Deactivate an account: it can no longer sign in, and its API tokens are revoked."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    tokens_revoke_all(user=user, reason="deactivated", actor=actor, ip=ip)
    return user


# --- API tokens ------------------------------------------------------------------------------
#
# A key is 24 random bytes in hex (no "-" for a shell or argparse to misread); the
# database keeps its SHA-256 and its first characters. SHA-256 without salt or stretching is right here: the key is random, not a
# password a person chose, so there is nothing to guess from the hash.

TOKEN_PREFIX_LENGTH = 8


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_issue(
    *,
    user: User,
    name: str = "",
    days: int | None = None,
    actor: Any = None,
    ip: str | None = None,
) -> tuple[ApiToken, str]:
    """Issue a token; returns it and its key, which is never stored and cannot be shown
    again."""
    if not user.is_active:
        raise DomainError(
            _("The account “%(username)s” is deactivated.") % {"username": user.username}
        )
    days = settings.API_TOKEN_DAYS if days is None else days
    if days < 1:
        raise DomainError(_("A token must be valid for at least one day."))
    key = secrets.token_hex(24)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip()[:100],
        key_hash=token_hash(key),
        prefix=key[:TOKEN_PREFIX_LENGTH],
        expires=timezone.now() + dt.timedelta(days=days),
    )
    audit_record(
        actor=actor,
        action=AuditAction.TOKEN_CREATE,
        object_type="api_token",
        object_id=token.pk,
        detail={"account": user.username, "prefix": token.prefix, "expires": str(token.expires)},
        ip=ip,
    )
    return token, key


def token_revoke(*, token: ApiToken, actor: Any = None, ip: str | None = None) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action=AuditAction.TOKEN_REVOKE,
            object_type="api_token",
            object_id=token.pk,
            detail={"account": token.user.username, "prefix": token.prefix},
            ip=ip,
        )
    return token


def token_revoke_by_prefix(
    *, user: User, prefix: str, actor: Any = None, ip: str | None = None
) -> ApiToken:
    """Revoke the one token of `user` whose key starts with `prefix`."""
    wanted = prefix.strip().rstrip("…")[:TOKEN_PREFIX_LENGTH]
    # Compared in Python too: SQLite's LIKE ignores case.
    candidates = user.api_tokens.filter(revoked_at__isnull=True, prefix__startswith=wanted)
    matches = [t for t in candidates if wanted and t.prefix.startswith(wanted)]
    if not matches:
        raise NotFound(
            _("“%(username)s” has no token starting with “%(prefix)s”.")
            % {"username": user.username, "prefix": prefix}
        )
    if len(matches) > 1:
        raise DomainError(
            _("Several tokens start with “%(prefix)s”; give more characters.") % {"prefix": prefix}
        )
    return token_revoke(token=matches[0], actor=actor, ip=ip)


def tokens_revoke_all(*, user: User, reason: str, actor: Any = None, ip: str | None = None) -> int:
    """Revoke every token of `user` still in force; audited one event per token."""
    revoked = 0
    for token in user.api_tokens.filter(revoked_at__isnull=True):
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action=AuditAction.TOKEN_REVOKE,
            object_type="api_token",
            object_id=token.pk,
            detail={"account": user.username, "prefix": token.prefix, "reason": reason},
            ip=ip,
        )
        revoked += 1
    return revoked


def token_for_key(key: str) -> ApiToken | None:
    """The token with this key, whatever its state (the caller says why it refuses), with
    its account and the account's region (every API call asks the policy for the
    jurisdiction, and a second query per call for it costs more than the join)."""
    if not key:
        return None
    return _TOKEN_LOOKUP.run(token_hash(key))


class _CompiledOnce:
    """A select_related lookup by one value, compiled by the ORM once per database and run
    with each new value.

    Every API call begins with the token lookup, and Django compiles a queryset to SQL on
    every evaluation: for this three-table join that was ~1 ms of CPU, five times the cost
    of running it (bench/README.md). The SQL, the column layout and the converters depend
    only on the models and the database, so they are kept; each row becomes model
    instances through the converters and `Model.from_db`, as in the ORM's own iteration.
    The queryset stays the definition, and a test holds the two equal.
    """

    PLACEHOLDER = "\x00value"

    def __init__(self, queryset: Any, relations: tuple[str, ...]) -> None:
        # `relations`: the select_related chain, "user__region" as ("user", "region").
        self.queryset, self.relations = queryset, relations
        self._compiled: dict[str, Any] = {}

    def _compile(self, alias: str) -> Any:
        from django.db.models.expressions import Col

        compiler = self.queryset(self.PLACEHOLDER).query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        columns = [col for col, _sql, _alias in compiler.select]
        if list(params) != [self.PLACEHOLDER] or not all(isinstance(c, Col) for c in columns):
            raise ValueError("a lookup by one value of model columns only")
        tables: dict[str, tuple[Any, list[str], list[int]]] = {}  # alias: model, names, positions
        for pos, col in enumerate(columns):
            model, names, positions = tables.setdefault(col.alias, (col.target.model, [], []))
            names.append(col.target.attname)
            positions.append(pos)
        if len(tables) != len(self.relations) + 1:
            raise ValueError("one table per relation")
        converters = list(compiler.get_converters(columns).items())
        self._compiled[alias] = compiled = (sql, list(tables.values()), converters)
        return compiled

    def run(self, value: Any, alias: str = "default") -> Any:
        from django.db import connections

        sql, tables, converters = self._compiled.get(alias) or self._compile(alias)
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(sql, [value])
            row = cursor.fetchone()
        if row is None:
            return None
        row = list(row)
        for pos, (convs, expression) in converters:
            for converter in convs:
                row[pos] = converter(row[pos], expression, connection)
        objects = []
        for model, names, positions in tables:
            values = [row[p] for p in positions]
            # A LEFT JOIN that found nothing (an account without a region): all NULL.
            objects.append(None if values[0] is None else model.from_db(alias, names, values))
        for parent, child, relation in zip(objects[:-1], objects[1:], self.relations, strict=True):
            if parent is not None:
                setattr(parent, relation, child)
        return objects[0]


_TOKEN_LOOKUP = _CompiledOnce(
    lambda key_hash: ApiToken.objects.select_related("user__region").filter(key_hash=key_hash),
    relations=("user", "region"),
)


def token_touch(*, token: ApiToken) -> None:
    """Note the token's use, at most once a minute: one write per request would cost
    every API call a write lock on SQLite."""
    now = timezone.now()
    if token.last_used is None or now - token.last_used > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        token.last_used = now


def user_token(*, user: User) -> str:
    """Issue a token with the default lifetime and return its key (the CLI and tests)."""
    _token, key = token_issue(user=user)
    return key

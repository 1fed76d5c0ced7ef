"""Writing the audit trail: one function, one INSERT, called by the services."""

from __future__ import annotations

from typing import Any

from .models import AuditAction, AuditEvent


def _region_path(region: Any) -> str:
    if region is None:
        return ""
    if isinstance(region, str):
        return region
    return getattr(region, "path", "") or ""


def audit_record(
    *,
    actor: Any,
    action: AuditAction | str,
    object_type: str = "",
    object_id: Any = "",
    region: Any = None,
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Append one event. `actor` is an account, a username (a failed sign-in), or None
    (the system: a command run without `--as`). `region` is a Region or a path."""
    if actor is None:
        actor_obj, actor_name = None, ""
    elif isinstance(actor, str):
        actor_obj, actor_name = None, actor[:150]
    else:
        is_auth = getattr(actor, "is_authenticated", False)
        actor_obj = actor if is_auth and getattr(actor, "pk", None) else None
        actor_name = getattr(actor, "username", "") or ""
    return AuditEvent.objects.create(
        actor=actor_obj,
        actor_name=actor_name,
        action=str(action),
        object_type=object_type,
        object_id="" if object_id is None else str(object_id),
        region=_region_path(region),
        detail=detail or {},
        ip=ip or None,
    )


def client_ip(request: Any) -> str | None:
    """The client's address as the server saw it (a proxy sets REMOTE_ADDR via
    the deployment's own configuration; X-Forwarded-For is not trusted blindly)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None

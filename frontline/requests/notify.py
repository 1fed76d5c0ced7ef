"""Notifications through pluggable channels (in-app inbox by default).

A channel is a class with `send(*, recipients, subject, body, url)`; the settings list
`FRONTLINE_NOTIFY_CHANNELS` names them. An SMS or WeChat gateway is another class there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from .models import Notification


class InboxChannel:
    def send(self, *, recipients: Iterable[Any], subject: str, body: str, url: str = "") -> None:
        Notification.objects.bulk_create(
            Notification(recipient=r, subject=subject[:200], body=body, url=url[:300])
            for r in recipients
        )


def notify(*, recipients: Iterable[Any], subject: str, body: str = "", url: str = "") -> int:
    """Send to every configured channel; returns how many people were addressed."""
    people = list({r.pk: r for r in recipients if r is not None}.values())
    if not people:
        return 0
    for path in settings.FRONTLINE_NOTIFY_CHANNELS:
        import_string(path)().send(recipients=people, subject=subject, body=body, url=url)
    return len(people)

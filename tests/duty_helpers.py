"""Builders for the mobilisation and duty tests."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from frontline.accounts.services import user_create
from frontline.duty import roster, services

from . import factories as f
from .conftest import ANKANG, PASSWORD

CST = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A time in April 2026, China Standard Time."""
    return dt.datetime(2026, 4, day, hour, minute, tzinfo=CST)


def person(username: str, path: str = ANKANG, role: str = "volunteer", name: str = ""):
    return user_create(
        username=username,
        role=role,
        region=f.region(path),
        password=PASSWORD,
        full_name=name or username,
    )


def gate(path: str = ANKANG, name: str = "南门卡点"):
    return roster.post_create(region=f.region(path), name=name, kind="checkpoint")


def unit(name: str = "六安市财政局"):
    return services.unit_create(name=name)


def english():
    """Messages matched by their English msgid, whatever the catalogue translates."""
    from django.utils import translation

    return translation.override("en")

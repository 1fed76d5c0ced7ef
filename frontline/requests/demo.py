"""The demo's requests: suppliers, and one grocery request nobody took up, so the worker's
supervision sweep has something to supervise and escalate as soon as `make run` starts."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from frontline.accounts.models import User
from frontline.people.models import Household
from frontline.territory.models import Region
from frontline.territory.services import city

from .models import Request, Supplier
from .services import request_create

ANKANG = "裕安区/城南镇/陡步河社区/安康小区"
LEFT_ALONE = "米、面、食用油各一份（示范：无人接单，已超时）"


def load_demo_requests() -> int:
    """Idempotent: what exists already is left as it is. Returns how many rows it made."""
    made = 0
    ankang = Region.objects.filter(path=ANKANG).first()
    worker = User.objects.filter(username="grid_worker").first()
    if ankang is None or worker is None:
        return 0
    for name, kind, area, supplies in (
        ("六安市保供超市", Supplier.Kind.ENTERPRISE, city(), "米面粮油、蔬菜包、肉蛋奶"),
        ("安康小区便民药店", Supplier.Kind.STORE, ankang, "常用药、慢性病用药"),
    ):
        if not Supplier.objects.filter(name=name).exists():
            supplier = Supplier(name=name, kind=kind, area=area, supplies=supplies)
            supplier.locate(area)
            supplier.save()
            made += 1
    if not Request.objects.filter(description=LEFT_ALONE).exists():
        household = Household.objects.within(ankang).filter(online_members=0).order_by("id").first()
        if household is not None:
            request_create(
                actor=worker,
                household=household,
                category="groceries",
                urgency="normal",
                channel="hotline",
                description=LEFT_ALONE,
                at=timezone.now() - dt.timedelta(hours=25),
            )
            made += 1
    return made

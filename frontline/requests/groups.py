"""统一订购: suppliers (保供企业/门店) and group orders delivered contactless to each door.

For households where nobody can order online (the census's 会网购), a group order per
building or compound collects each household's items, goes to one supplier that serves
the place, and is delivered door to door; each door's delivery is confirmed, and the order
is delivered when every door is. Lines can be raised from the households' open grocery
requests. Organising is for those who may dispatch requests; confirming a door, for anyone
who may take requests there.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from frontline.accounts.policy import Action, policy_for
from frontline.core.errors import Conflict, DomainError
from frontline.people.models import Household
from frontline.territory.models import Level, Region

from .models import Category, GroupOrder, GroupOrderLine, Request, Supplier


def supplier_create(
    *,
    actor: Any,
    area: Region,
    name: str,
    kind: str,
    contact_name: str = "",
    phone: str = "",
    supplies: str = "",
) -> Supplier:
    policy_for(actor).require(Action.DISPATCH_REQUEST, area)
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Give the supplier's name."))
    if kind not in Supplier.Kind.values:
        raise DomainError(
            _("The kind is one of: %(choices)s.") % {"choices": ", ".join(Supplier.Kind.values)}
        )
    supplier = Supplier(
        name=name[:100],
        kind=kind,
        area=area,
        contact_name=(contact_name or "").strip()[:32],
        phone=(phone or "").strip()[:20],
        supplies=(supplies or "").strip(),
    )
    supplier.locate(area)
    supplier.save()
    return supplier


def suppliers_serving(region: Region):
    """Suppliers whose area holds `region` (a city-wide one serves everywhere)."""
    ids = [region.pk] + [
        getattr(region, f"{f}_id")
        for f in ("district", "township", "community", "compound")
        if getattr(region, f"{f}_id")
    ]
    return Supplier.objects.filter(Q(area_id__in=ids) | Q(area__level=Level.CITY)).order_by("name")


def group_order_create(*, actor: Any, region: Region, supplier: Supplier) -> GroupOrder:
    policy_for(actor).require(Action.DISPATCH_REQUEST, region)
    if region.level not in (Level.COMPOUND, Level.BUILDING):
        raise DomainError(_("A group order is for one building or one compound."))
    if not suppliers_serving(region).filter(pk=supplier.pk).exists():
        raise DomainError(_("%(name)s does not serve this place.") % {"name": supplier.name})
    order = GroupOrder(region=region, supplier=supplier, created_by=actor)
    order.locate(region)
    order.save()
    return order


def _require_collecting(order: GroupOrder) -> None:
    if order.status != GroupOrder.Status.COLLECTING:
        raise Conflict(_("This group order is no longer collecting items."))


def group_order_collect_offline(*, actor: Any, order: GroupOrder) -> int:
    """A line for every household of the place where nobody can order online."""
    policy_for(actor).require(Action.DISPATCH_REQUEST, order)
    _require_collecting(order)
    present = order.lines.values("household_id")
    households = (
        Household.objects.within(order.region)
        .filter(online_members=0, members__gt=0)
        .exclude(pk__in=present)
    )
    lines = [GroupOrderLine(order=order, household=h) for h in households]
    GroupOrderLine.objects.bulk_create(lines, ignore_conflicts=True)
    return len(lines)


def group_order_raise_from_requests(*, actor: Any, order: GroupOrder) -> int:
    """The place's open grocery requests become (or fill) their households' lines."""
    policy_for(actor).require(Action.DISPATCH_REQUEST, order)
    _require_collecting(order)
    raised = 0
    requests = (
        Request.objects.open()
        .within(order.region)
        .filter(category=Category.GROCERIES)
        .order_by("created_at")
    )
    with transaction.atomic():
        for req in requests:
            line, _created = GroupOrderLine.objects.get_or_create(
                order=order, household_id=req.household_id
            )
            if line.request_id is None:
                line.request = req
                line.items = "\n".join(p for p in (line.items, req.description) if p)
                line.save(update_fields=["request", "items"])
                raised += 1
    return raised


def group_order_set_line(
    *, actor: Any, order: GroupOrder, household: Household, items: str, amount: Any = 0
) -> GroupOrderLine:
    policy_for(actor).require(Action.DISPATCH_REQUEST, order)
    _require_collecting(order)
    if household.building_id is None or not household.building.is_within(order.region):  # type: ignore[union-attr]
        raise DomainError(_("This household is not in the order's place."))
    try:
        value = Decimal(str(amount or 0))
    except InvalidOperation:
        raise DomainError(_("The amount is a number of yuan.")) from None
    if value < 0:
        raise DomainError(_("The amount is a number of yuan."))
    line, _created = GroupOrderLine.objects.update_or_create(
        order=order, household=household, defaults={"items": items.strip(), "amount": value}
    )
    return line


def group_order_place(*, actor: Any, order: GroupOrder) -> GroupOrder:
    """Send the collected order to the supplier: no more changes to its lines."""
    policy_for(actor).require(Action.DISPATCH_REQUEST, order)
    if not order.lines.exists():
        raise DomainError(_("The order has no households yet."))
    now = timezone.now()
    won = GroupOrder.objects.filter(pk=order.pk, status=GroupOrder.Status.COLLECTING).update(
        status=GroupOrder.Status.ORDERED, ordered_at=now
    )
    if won != 1:
        raise Conflict(_("This group order is no longer collecting items."))
    order.status, order.ordered_at = GroupOrder.Status.ORDERED, now
    return order


def group_order_deliver(*, actor: Any, line: GroupOrderLine) -> GroupOrderLine:
    """Confirm one door's delivery; the order is delivered when every door is."""
    order = line.order
    policy_for(actor).require(Action.WORK_REQUEST, order)
    if order.status != GroupOrder.Status.ORDERED:
        raise Conflict(_("Only an order sent to its supplier is delivered."))
    now = timezone.now()
    with transaction.atomic():
        won = GroupOrderLine.objects.filter(pk=line.pk, delivered_at__isnull=True).update(
            delivered_at=now, delivered_by=actor
        )
        if won != 1:
            raise Conflict(_("This door's delivery is already confirmed."))
        if not GroupOrderLine.objects.filter(order=order, delivered_at__isnull=True).exists():
            GroupOrder.objects.filter(pk=order.pk, status=GroupOrder.Status.ORDERED).update(
                status=GroupOrder.Status.DELIVERED, delivered_at=now
            )
    line.delivered_at, line.delivered_by = now, actor
    return line


def order_totals(order: GroupOrder) -> dict:
    figures = order.lines.aggregate(
        households=Count("id"),
        delivered=Count("id", filter=Q(delivered_at__isnull=False)),
        amount=Sum("amount"),
    )
    figures["amount"] = figures["amount"] or Decimal("0")
    return figures


def supplier_totals(user: Any, region: Region | None = None) -> list[dict]:
    """Per supplier, over the group orders the user sees: orders, households, amount."""
    orders = GroupOrder.objects.visible_to(user)
    if region is not None:
        orders = orders.within(region)
    rows = (
        GroupOrderLine.objects.filter(order__in=orders.values("pk"))
        .values("order__supplier__name")
        .annotate(
            orders=Count("order", distinct=True),
            households=Count("id"),
            delivered=Count("id", filter=Q(delivered_at__isnull=False)),
            amount=Sum("amount"),
        )
        .order_by("order__supplier__name")
    )
    return [
        {
            "supplier": r["order__supplier__name"],
            "orders": r["orders"],
            "households": r["households"],
            "delivered": r["delivered"],
            "amount": r["amount"] or Decimal("0"),
        }
        for r in rows
    ]

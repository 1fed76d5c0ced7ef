"""统一订购: a group order for the households that cannot order online, door to door."""

from __future__ import annotations

from decimal import Decimal

import pytest

from frontline.accounts.services import user_create
from frontline.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from frontline.requests.groups import (
    group_order_collect_offline,
    group_order_create,
    group_order_deliver,
    group_order_place,
    group_order_raise_from_requests,
    group_order_set_line,
    order_totals,
    supplier_create,
    supplier_totals,
)
from frontline.requests.models import GroupOrder, Supplier
from frontline.requests.services import request_create
from frontline.territory.services import city

from . import factories as f
from .conftest import ANKANG, LIJINGYUAN, PASSWORD


@pytest.fixture
def offline_building(lu_an):
    """安康小区 3栋: five households where nobody orders online, two where someone does."""
    households = []
    for n in range(7):
        hh = f.household(f"{ANKANG}/3栋", room=f"{n + 1}01")
        f.resident(hh, f"住户{n}", can_order_online=n >= 5)
        hh.refresh_from_db()
        households.append(hh)
    return households


@pytest.fixture
def supplier(city_admin):
    return supplier_create(actor=city_admin, area=city(), name="六安保供超市", kind="enterprise")


def test_one_order_delivered_door_to_door(
    grid_worker, volunteer, supplier, offline_building, lu_an
):
    building = f.region(f"{ANKANG}/3栋")
    offline = [h for h in offline_building if h.online_members == 0]
    assert len(offline) == 5  # the census's flag, counted independently here
    request_create(
        actor=grid_worker, household=offline[0], category="groceries", description="大米10斤"
    )
    order = group_order_create(actor=grid_worker, region=building, supplier=supplier)

    assert group_order_collect_offline(actor=grid_worker, order=order) == 5
    assert group_order_collect_offline(actor=grid_worker, order=order) == 0
    assert group_order_raise_from_requests(actor=grid_worker, order=order) == 1
    group_order_set_line(
        actor=grid_worker, order=order, household=offline[1], items="蔬菜包", amount="58.5"
    )
    assert "大米10斤" in order.lines.get(household=offline[0]).items
    group_order_place(actor=grid_worker, order=order)
    with pytest.raises(Conflict):
        group_order_set_line(actor=grid_worker, order=order, household=offline[2], items="x")

    lines = list(order.lines.all())
    for line in lines[:-1]:
        group_order_deliver(actor=volunteer, line=line)
    assert GroupOrder.objects.get(pk=order.pk).status == GroupOrder.Status.ORDERED
    group_order_deliver(actor=volunteer, line=lines[-1])
    with pytest.raises(Conflict):
        group_order_deliver(actor=volunteer, line=lines[-1])

    assert GroupOrder.objects.get(pk=order.pk).status == GroupOrder.Status.DELIVERED
    assert order_totals(order) == {"households": 5, "delivered": 5, "amount": Decimal("58.50")}
    totals = supplier_totals(grid_worker)
    assert totals == [
        {
            "supplier": "六安保供超市",
            "orders": 1,
            "households": 5,
            "delivered": 5,
            "amount": Decimal("58.50"),
        }
    ]


def test_refusals(grid_worker, volunteer, outsider, city_admin, offline_building, lu_an):
    building = f.region(f"{ANKANG}/3栋")
    far = supplier_create(
        actor=city_admin, area=f.region(LIJINGYUAN), name="丽景苑门店", kind="store"
    )
    with pytest.raises(DomainError):
        group_order_create(actor=grid_worker, region=building, supplier=far)
    near = supplier_create(actor=grid_worker, area=f.region(ANKANG), name="安康门店", kind="store")
    with pytest.raises(PermissionDenied):
        group_order_create(actor=volunteer, region=building, supplier=near)
    with pytest.raises(NotFound):
        group_order_create(actor=outsider, region=building, supplier=near)
    other = user_create(
        username="far_runner", role="volunteer", region=f.region(LIJINGYUAN), password=PASSWORD
    )
    order = group_order_create(actor=grid_worker, region=building, supplier=near)
    group_order_collect_offline(actor=grid_worker, order=order)
    group_order_place(actor=grid_worker, order=order)
    with pytest.raises(NotFound):
        group_order_deliver(actor=other, line=order.lines.first())


def test_pages_organise_and_deliver(grid_worker, volunteer, offline_building, lu_an):
    from django.test import Client
    from django.urls import reverse

    building = f.region(f"{ANKANG}/3栋")
    staff = Client()
    staff.force_login(grid_worker)
    staff.post(
        reverse("supplier_list") + f"?region={f.region(ANKANG).pk}",
        {"name": "安康保供点", "kind": "store", "region": f.region(ANKANG).pk},
    )
    created = staff.post(
        reverse("group_order_list"),
        {"region": building.pk, "supplier": Supplier.objects.get().pk},
    )
    order = GroupOrder.objects.get()
    assert created["Location"] == reverse("group_order_detail", args=[order.pk])
    staff.post(reverse("group_order_action", args=[order.pk, "collect"]))
    staff.post(reverse("group_order_action", args=[order.pk, "place"]))
    runner = Client()
    runner.force_login(volunteer)
    for line in order.lines.all():
        runner.post(reverse("group_order_action", args=[order.pk, "deliver"]), {"line": line.pk})
    order.refresh_from_db()
    assert order.status == GroupOrder.Status.DELIVERED and order.lines.count() == 5
    page = staff.get(reverse("group_order_list") + f"?region={building.pk}").content.decode()
    assert "安康保供点" in page


def test_a_grid_worker_may_choose_a_city_wide_supplier(grid_worker, supplier, offline_building):
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(grid_worker)
    building = f.region(f"{ANKANG}/3栋")
    response = client.post(
        reverse("group_order_list"), {"region": building.pk, "supplier": supplier.pk}
    )
    assert response.status_code == 302 and GroupOrder.objects.get().supplier == supplier

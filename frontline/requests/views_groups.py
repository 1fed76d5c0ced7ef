"""Pages for group purchasing (统一订购) and suppliers (保供企业/门店)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from frontline.accounts.policy import Action, policy_for
from frontline.core.access import access_by_id
from frontline.core.errors import DomainError, NotFound
from frontline.core.errors import PermissionDenied as DomainPermissionDenied
from frontline.territory.models import Region

from . import groups
from .models import GroupOrder, GroupOrderLine, Supplier


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _region(request) -> Region | None:
    region_id = _int(request.GET.get("region") or request.POST.get("region"))
    if region_id is None:
        return None
    return access_by_id(Region.objects.all(), request.user, region_id)


@login_required
def group_order_list(request):
    """Group orders of a region, the totals per supplier, and a new order for a place."""
    user = request.user
    region = _region(request)
    if request.method == "POST":
        if region is None:
            raise Http404
        # Suppliers are not personal data: any that serves the place may be chosen, a
        # city-wide enterprise included (it lies outside a grid worker's jurisdiction).
        supplier = (
            groups.suppliers_serving(region).filter(pk=_int(request.POST.get("supplier"))).first()
        )
        if supplier is None:
            raise Http404
        try:
            order = groups.group_order_create(actor=user, region=region, supplier=supplier)
        except DomainPermissionDenied:
            raise PermissionDenied from None
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect(f"{request.path}?region={region.pk}")
        return redirect("group_order_detail", pk=order.pk)
    orders = GroupOrder.objects.visible_to(user)
    if region is not None:
        orders = orders.within(region)
    orders = orders.select_related("region", "supplier").order_by("-created_at")[:100]
    suppliers = list(groups.suppliers_serving(region)[:50]) if region is not None else []
    return render(
        request,
        "requests/group_order_list.html",
        {
            "region": region,
            "orders": orders,
            "suppliers": suppliers,
            "totals": groups.supplier_totals(user, region),
            "may_organise": region is not None
            and policy_for(user).can(Action.DISPATCH_REQUEST, region),
        },
    )


@login_required
def group_order_detail(request, pk: int):
    order = access_by_id(GroupOrder.objects.select_related("region", "supplier"), request.user, pk)
    lines = order.lines.select_related("household__building", "request").order_by(
        "household__unit", "household__room"
    )
    policy = policy_for(request.user)
    return render(
        request,
        "requests/group_order_detail.html",
        {
            "order": order,
            "lines": lines,
            "totals": groups.order_totals(order),
            "may_organise": policy.can(Action.DISPATCH_REQUEST, order),
            "may_deliver": policy.can(Action.WORK_REQUEST, order),
        },
    )


@login_required
@require_POST
def group_order_action(request, pk: int, action: str):
    user = request.user
    order = access_by_id(GroupOrder.objects.select_related("region"), user, pk)
    try:
        if action == "collect":
            n = groups.group_order_collect_offline(actor=user, order=order)
            messages.success(request, _("%(n)d households added.") % {"n": n})
        elif action == "raise":
            n = groups.group_order_raise_from_requests(actor=user, order=order)
            messages.success(request, _("%(n)d grocery requests raised.") % {"n": n})
        elif action == "place":
            groups.group_order_place(actor=user, order=order)
        elif action == "deliver":
            line = GroupOrderLine.objects.filter(order=order, pk=request.POST.get("line")).first()
            if line is None:
                raise Http404
            groups.group_order_deliver(actor=user, line=line)
        else:
            raise Http404
    except NotFound:
        raise Http404 from None
    except DomainPermissionDenied:
        raise PermissionDenied from None
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("group_order_detail", pk=pk)


@login_required
def supplier_list(request):
    """Suppliers the user sees; those who organise group orders may add one for a place."""
    user = request.user
    region = _region(request) or policy_for(user).jurisdiction
    if region is None:
        raise Http404
    if request.method == "POST":
        try:
            groups.supplier_create(
                actor=user,
                area=region,
                name=request.POST.get("name", ""),
                kind=request.POST.get("kind", ""),
                contact_name=request.POST.get("contact_name", ""),
                phone=request.POST.get("phone", ""),
                supplies=request.POST.get("supplies", ""),
            )
        except DomainPermissionDenied:
            raise PermissionDenied from None
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect(f"{request.path}?region={region.pk}")
    suppliers = groups.suppliers_serving(region) if region.level else Supplier.objects.all()
    return render(
        request,
        "requests/supplier_list.html",
        {
            "region": region,
            "suppliers": suppliers.select_related("area")[:200],
            "kinds": Supplier.Kind.choices,
            "may_organise": policy_for(user).can(Action.DISPATCH_REQUEST, region),
        },
    )

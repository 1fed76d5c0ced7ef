"""The household's own page (no login, signed link) and the staff page that issues,
prints and revokes it."""

from __future__ import annotations

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from frontline.accounts.policy import Action, policy_for
from frontline.audit.services import client_ip
from frontline.core.access import access_by_id
from frontline.core.errors import DomainError
from frontline.core.errors import PermissionDenied as DomainPermissionDenied
from frontline.core.ratelimit import RateLimited
from frontline.people.models import Household

from . import resident
from .models import STATUS_CHINESE, Category, Request, ResidentLink, Status, Urgency


def _refusal(request, message: str, status: int):
    return render(request, "requests/resident_refused.html", {"message": message}, status=status)


def _open(request, token: str):
    """The household behind the link, after the rate limit; or the refusal page."""
    try:
        resident.throttle(client_ip(request))
        return resident.household_for_token(token), None
    except RateLimited as exc:
        response = _refusal(request, exc.message, 429)
        response["Retry-After"] = str(exc.retry_after)
        return None, response
    except DomainPermissionDenied as exc:
        return None, _refusal(request, exc.message, 403)


def resident_page(request, token: str):
    household, refusal = _open(request, token)
    if refusal is not None:
        return refusal
    assert household is not None
    error, status = "", 200
    if request.method == "POST":
        try:
            created = resident.resident_request_create(
                household=household,
                category=request.POST.get("category", ""),
                urgency=request.POST.get("urgency", Urgency.NORMAL),
                description=request.POST.get("description", ""),
                ip=client_ip(request),
                photos=request.FILES.getlist("photos"),
            )
        except RateLimited as exc:
            error, status = exc.message, 429
        except DomainError as exc:
            error, status = exc.message, 400
        else:
            messages.success(
                request,
                _("Request %(number)s sent. Your grid worker will take it up.")
                % {"number": created.number},
            )
            return redirect("resident_page", token=token)
    reqs = (
        Request.objects.filter(household=household)
        .prefetch_related("events", "photos")
        .order_by("-created_at")[:20]
    )
    return render(
        request,
        "requests/resident_page.html",
        {
            "household": household,
            "token": token,
            "reqs": reqs,
            "labels": STATUS_CHINESE,
            "categories": Category.choices,
            "urgencies": Urgency.choices,
            "reported": Status.REPORTED,
            "error": error,
        },
        status=status,
    )


def resident_photo(request, token: str, pk: int, photo: int):
    """A photo of one of the household's own requests, through its own link."""
    from .photos import resident_photo_for
    from .views import photo_response

    household, refusal = _open(request, token)
    if refusal is not None:
        return refusal
    return photo_response(resident_photo_for(household, pk, photo))


@require_POST
def resident_close(request, token: str, pk: int):
    household, refusal = _open(request, token)
    if refusal is not None:
        return refusal
    try:
        resident.resident_confirm(
            household=household,
            request_id=pk,
            satisfaction=request.POST.get("satisfaction"),
            note=request.POST.get("note", ""),
            ip=client_ip(request),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Thank you: the request is closed."))
    return redirect("resident_page", token=token)


def _qr(url: str) -> str:
    # segno writes plain SVG (no inline style), so the CSP holds.
    return mark_safe(segno.make(url, error="m").svg_inline(scale=4))  # noqa: S308


@login_required
def household_link(request, pk: int):
    """Issue, show (with its QR code, printable) and revoke a household's own link."""
    household = access_by_id(Household.objects.select_related("building"), request.user, pk)
    if not policy_for(request.user).can(Action.CREATE_REQUEST, household):
        raise PermissionDenied
    link = ResidentLink.objects.filter(household=household).first()
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            resident.link_revoke(actor=request.user, household=household, ip=client_ip(request))
            messages.success(request, _("The link is revoked: printed copies no longer open."))
        else:
            resident.link_issue(actor=request.user, household=household, ip=client_ip(request))
        return redirect("household_link", pk=pk)
    url = qr = ""
    if link is not None and link.active:
        url = request.build_absolute_uri(reverse("resident_page", args=[resident.link_token(link)]))
        qr = _qr(url)
    return render(
        request,
        "requests/household_link.html",
        {"household": household, "link": link, "url": url, "qr": qr},
    )


@login_required
def household_link_sheet(request, pk: int):
    """A building's households with their links and QR codes, to print and post in the
    stairwell. POST issues the links still missing (or revoked)."""
    from frontline.territory.models import Level, Region

    building = access_by_id(Region.objects.all(), request.user, pk)
    if building.level != Level.BUILDING:
        raise Http404
    if not policy_for(request.user).can(Action.CREATE_REQUEST, building):
        raise PermissionDenied
    households = list(
        Household.objects.filter(building=building)
        .select_related("building")
        .order_by("unit", "room")
    )
    if request.method == "POST":
        for household in households:
            resident.link_issue(actor=request.user, household=household, ip=client_ip(request))
        return redirect("household_link_sheet", pk=pk)
    links = {
        link.household_id: link
        for link in ResidentLink.objects.filter(household__in=households, active=True)
    }
    cards = []
    for household in households:
        link = links.get(household.pk)
        url = (
            request.build_absolute_uri(reverse("resident_page", args=[resident.link_token(link)]))
            if link
            else ""
        )
        cards.append({"household": household, "url": url, "qr": _qr(url) if url else ""})
    return render(
        request,
        "requests/household_link_sheet.html",
        {"building": building, "cards": cards, "missing": len(households) - len(links)},
    )

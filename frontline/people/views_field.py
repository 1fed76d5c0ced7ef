"""Pages for the field: worklists, door visits and their progress, printable rosters."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from frontline.accounts.policy import policy_for
from frontline.audit.models import AuditAction
from frontline.audit.services import audit_record, client_ip
from frontline.core.access import access_by_id
from frontline.core.errors import DomainError
from frontline.territory.models import Grid, GridLevel, Level, Region
from frontline.territory.queries import natural_sorted

from . import worklists as w
from .labels import CARE_GROUP_LABELS
from .models import Household

PAGE_SIZE = 50


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def scope_from_request(request) -> w.Scope:
    """The region (`?region=`, else `?building=`, else the jurisdiction) and the grid
    point (`?grid=`) a field page looks at; anything outside the jurisdiction is a 404."""
    user = request.user
    region_id = _int(request.GET.get("building")) or _int(request.GET.get("region"))
    if region_id is not None:
        region = access_by_id(Region.objects.all(), user, region_id)
    else:
        region = policy_for(user).jurisdiction
        if region is None:
            raise Http404
    grid = None
    if (grid_id := _int(request.GET.get("grid"))) is not None:
        grid = access_by_id(Grid.objects.prefetch_related("coverage"), user, grid_id)
    return w.Scope(region=region, grid=grid)


def _filters(scope: w.Scope, user) -> dict:
    """Buildings and grid points to narrow a list to, where there are few enough to pick."""
    region = scope.region
    compound = None
    if region.level == Level.COMPOUND:
        compound = region
    elif region.level == Level.BUILDING and region.parent_id:
        compound = region.parent
    buildings: list[Region] = []
    points: list[Grid] = []
    if compound is not None:
        buildings = natural_sorted(
            Region.objects.filter(parent=compound).only("id", "name"), key=lambda r: r.name
        )
        points = natural_sorted(
            Grid.objects.visible_to(user)
            .filter(compound_id=compound.pk, level=GridLevel.POINT)
            .only("id", "name"),
            key=lambda g: g.name,
        )
    return {"compound": compound, "buildings": buildings, "points": points}


@login_required
def worklist(request, kind: str):
    if kind not in w.KINDS:
        raise Http404
    scope = scope_from_request(request)
    policy = policy_for(request.user)
    households = w.is_household_kind(kind)
    rows = w.household_rows(scope, kind) if households else w.resident_rows(scope, kind)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    # One trace per list opened, not one per row: who looked at which list, where.
    audit_record(
        actor=request.user,
        action=AuditAction.SEARCH,
        object_type="household" if households else "resident",
        region=scope.region,
        detail={"worklist": kind, "channel": "page", "grid": scope.grid.pk if scope.grid else None},
        ip=client_ip(request),
    )
    items = []
    for obj in page.object_list:
        if households:
            dial = policy.dial(obj.phone)
            items.append(
                {"household": obj, "address": w.relative_address(obj, scope.region), "dial": dial}
            )
        else:
            items.append(
                {
                    "resident": obj,
                    "household": obj.household,
                    "address": w.relative_address(obj.household, scope.region),
                    "groups": w.group_labels(obj),
                    "call": w.call_target(policy, obj),
                }
            )
    base = {}
    if scope.region.level == Level.BUILDING:
        base["building"] = scope.region.pk
    else:
        base["region"] = scope.region.pk
    if scope.grid is not None:
        base["grid"] = scope.grid.pk
    kinds = [(code, label) for code, label in CARE_GROUP_LABELS.items()]
    kinds += [(k, w.title(k)) for k in (w.NO_CONTACT, w.AWAY, w.PARTY, w.OFFLINE, w.EMPTY)]
    return render(
        request,
        "people/worklist.html",
        {
            "kind": kind,
            "title": w.title(kind),
            "scope": scope,
            "page": page,
            "items": items,
            "households_list": households,
            "query": urlencode(base),
            "kinds": kinds,
            **_filters(scope, request.user),
        },
    )


def worklist_url(kind: str, *, region: Region | None = None, grid: Grid | None = None) -> str:
    params = {}
    if region is not None:
        params["region"] = region.pk
    if grid is not None:
        params["grid"] = grid.pk
    url = reverse("worklist", args=[kind])
    return f"{url}?{urlencode(params)}" if params else url


# --- visits ------------------------------------------------------------------------------


def _day(request) -> dt.date:
    raw = request.GET.get("date", "")
    try:
        return dt.date.fromisoformat(raw) if raw else timezone.localdate()
    except ValueError:
        return timezone.localdate()


@login_required
@require_POST
def visit_create(request, pk: int):
    from .visits import visit_record

    household = access_by_id(Household.objects.select_related("building"), request.user, pk)
    try:
        visit_record(
            actor=request.user,
            household=household,
            outcome=request.POST.get("outcome", ""),
            purpose=request.POST.get("purpose", "") or "care",
            note=request.POST.get("note", ""),
            needs=request.POST.get("needs", ""),
            channel="page",
            ip=client_ip(request),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Visit recorded."))
    # Back to the room chart or the worklist the visit was recorded from, so the next door
    # is one tap away; only a path on this site.
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect("household_detail", pk=household.pk)


@login_required
def visit_progress(request):
    from .visits import not_visited, progress_rows

    scope = scope_from_request(request)
    day = _day(request)
    rows = progress_rows(request.user, scope, day)
    pending = Paginator(
        w.RoomOrder(not_visited(scope, day).select_related("building"), via_household=False),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "people/visit_progress.html",
        {
            "scope": scope,
            "day": day,
            "today": timezone.localdate(),
            "rows": rows,
            "pending": pending,
            "pending_items": [
                {"household": h, "address": w.relative_address(h, scope.region)}
                for h in pending.object_list
            ],
            **_filters(scope, request.user),
        },
    )


# --- printable rosters -----------------------------------------------------------------


def _roster_buildings(scope: w.Scope) -> list[dict]:
    """Residents by building, in room order: three queries for the whole roster."""
    from .models import Resident

    residents = scope.apply(Resident.objects.all()).select_related("household__building")
    residents = residents.prefetch_related("care_groups")
    rows = sorted(
        residents,
        key=lambda r: (
            w._room_key(
                r.household.building.name if r.household.building else "",
                r.household.unit,
                r.household.room,
                r.household_id,
            ),
            r.birth_date,
            r.pk,
        ),
    )
    buildings: list[dict] = []
    for resident in rows:
        building = resident.household.building
        if not buildings or buildings[-1]["building"] != building:
            buildings.append({"building": building, "rows": []})
        buildings[-1]["rows"].append(resident)
    return buildings


@login_required
def roster(request):
    """A building's or grid point's roster: prints on A4, downloads as .xlsx for the
    roles that may export."""
    scope = scope_from_request(request)
    if scope.region.level < Level.COMPOUND and scope.grid is None:
        # A roster is for a door-to-door round, not a district: name a building or point.
        raise Http404
    policy = policy_for(request.user)
    xlsx = request.GET.get("format") == "xlsx"
    if xlsx and not policy.may_export:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    buildings = _roster_buildings(scope)
    audit_record(
        actor=request.user,
        action=AuditAction.EXPORT if xlsx else AuditAction.SEARCH,
        object_type="resident",
        region=scope.region,
        detail={
            "worklist": "roster",
            "channel": "page",
            "format": "xlsx" if xlsx else "html",
            "grid": scope.grid.pk if scope.grid else None,
            "rows": sum(len(block["rows"]) for block in buildings),
        },
        ip=client_ip(request),
    )
    title = scope.grid.name if scope.grid else scope.region.name
    if xlsx:
        return _roster_xlsx(buildings, policy, title)
    return render(
        request,
        "people/roster.html",
        {"scope": scope, "title": title, "buildings": buildings},
    )


def _roster_xlsx(buildings: list[dict], policy, title: str):
    from io import BytesIO

    from django.http import HttpResponse
    from openpyxl import Workbook

    from .sheetsafe import xlsx_text_row

    # Write-only, every text cell a string cell: a name such as =HYPERLINK(...) must
    # never become a live formula in the office's spreadsheet program.
    book = Workbook(write_only=True)
    sheet = book.create_sheet("名册")
    sheet.append(
        [
            "楼栋",
            "单元",
            "房号",
            "姓名",
            "年龄",
            "重点人群",
            "联系电话",
            "紧急联系人",
            "紧急联系电话",
            "✓",
        ]
    )
    for block in buildings:
        for r in block["rows"]:
            hh = r.household
            sheet.append(
                xlsx_text_row(
                    sheet,
                    [
                        block["building"].name if block["building"] else "",
                        hh.unit,
                        hh.room,
                        r.name,
                        r.age,
                        "、".join(w.group_labels(r)),
                        policy.phone(r.phone),
                        r.emergency_name,
                        policy.phone(r.emergency_phone),
                        "",
                    ],
                )
            )
    buffer = BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    from urllib.parse import quote

    response["Content-Disposition"] = (
        f"attachment; filename*=UTF-8''{quote(f'roster-{title}.xlsx')}"
    )
    return response

"""Pages for mobilisation and duty: posts and their roster, the person's day, the ten
roles at a compound, the branch's QR code and its reports, and the public reporting page.

Thin, like every view: parse, authorise through the policy, call one service, render.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from frontline.accounts.models import User
from frontline.accounts.policy import Action, policy_for
from frontline.audit.services import client_ip
from frontline.core.access import access_by_id
from frontline.core.errors import DomainError, NotFound
from frontline.core.errors import PermissionDenied as DomainPermissionDenied
from frontline.core.ratelimit import RateLimited
from frontline.territory.models import Level, Region
from frontline.territory.queries import natural_sorted

from . import reporting, roster, services
from .models import Branch, CareRecord, Post, Report, RoleAssignment, Shift, TenRole
from .reporting import REPORT_KINDS


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _region(request) -> Region:
    """`?region=` inside the jurisdiction (404 outside), else the jurisdiction."""
    region_id = _int(request.GET.get("region") or request.POST.get("region"))
    if region_id is not None:
        return access_by_id(Region.objects.all(), request.user, region_id)
    region = policy_for(request.user).jurisdiction
    if region is None:
        raise Http404
    return region


def _day(request) -> dt.date:
    raw = request.GET.get("date", "")
    try:
        return dt.date.fromisoformat(raw) if raw else timezone.localdate()
    except ValueError:
        return timezone.localdate()


def _day_window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, start + dt.timedelta(days=1)


def _require(request, action: Action, target=None) -> None:
    try:
        policy_for(request.user).require(action, target)
    except DomainPermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from None
    except NotFound:
        raise Http404 from None


# --- posts and the roster ------------------------------------------------------------------


@login_required
def post_list(request):
    """The posts under a region, each with its gaps in the next 24 hours; a new post."""
    region = _region(request)
    if request.method == "POST":
        _require(request, Action.MANAGE_DUTY, region)
        try:
            post = roster.post_create(
                region=region,
                name=request.POST.get("name", ""),
                kind=request.POST.get("kind", ""),
                actor=request.user,
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Post created."))
            return redirect(reverse("duty_roster", args=[post.pk]))
    posts = list(roster.posts_for(request.user, region))
    now = timezone.now()
    gaps = roster.gaps_by_post(
        posts, now, now + dt.timedelta(hours=24), shifts=Shift.objects.within(region)
    )
    chain = services.responsibility_chain(region) if region.level >= Level.TOWNSHIP else []
    return render(
        request,
        "duty/post_list.html",
        {
            "region": region,
            "rows": [(p, gaps[p.pk]) for p in posts],
            "kinds": Post.Kind.choices,
            "chain": chain,
            "may_add": policy_for(request.user).can(Action.MANAGE_DUTY, region)
            and region.level >= Level.COMMUNITY,
        },
    )


def _people_near(post: Post):
    """Accounts at the post's community: who can be put on its roster."""
    return natural_sorted(
        User.objects.filter(is_active=True, region__community_id=post.community_id).only(
            "id", "username", "first_name", "last_name"
        ),
        key=lambda u: u.get_full_name() or u.username,
    )


@login_required
def post_roster(request, pk: int):
    """One post's roster for a day: the shifts in order and the gaps in red."""
    post = access_by_id(Post.objects.select_related("region"), request.user, pk)
    day = _day(request)
    start, end = _day_window(day)
    shifts = list(
        Shift.objects.filter(post=post, start__lt=end, end__gt=start)
        .select_related("person")
        .order_by("start", "id")
    )
    gaps = roster.merge_gaps([(s.start, s.end) for s in shifts], start, end)
    timeline = sorted(
        [("shift", s.start, s) for s in shifts] + [("gap", g.start, g) for g in gaps],
        key=lambda item: item[1],
    )
    may_manage = policy_for(request.user).can(Action.MANAGE_DUTY, post)
    return render(
        request,
        "duty/roster.html",
        {
            "post": post,
            "day": day,
            "previous": day - dt.timedelta(days=1),
            "next": day + dt.timedelta(days=1),
            "timeline": timeline,
            "gaps": gaps,
            "may_manage": may_manage,
            "people": _people_near(post) if may_manage else [],
        },
    )


def _parse_local(day: str, time: str) -> dt.datetime | None:
    try:
        naive = dt.datetime.combine(dt.date.fromisoformat(day), dt.time.fromisoformat(time))
    except ValueError:
        return None
    return timezone.make_aware(naive)


@login_required
@require_POST
def shift_add(request, pk: int):
    post = access_by_id(Post.objects.select_related("region"), request.user, pk)
    _require(request, Action.MANAGE_DUTY, post)
    start = _parse_local(request.POST.get("date", ""), request.POST.get("start", ""))
    hours = _int(request.POST.get("hours"))
    person = User.objects.filter(pk=_int(request.POST.get("person"))).first()
    back = reverse("duty_roster", args=[post.pk]) + f"?date={request.POST.get('date', '')}"
    if start is None or hours is None or person is None:
        messages.error(request, _("Choose a person, a day, a start time and the hours."))
        return redirect(back)
    try:
        roster.shift_create(
            post=post,
            person=person,
            start=start,
            end=start + dt.timedelta(hours=hours),
            actor=request.user,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Shift added."))
    return redirect(back)


# --- the person's day ---------------------------------------------------------------------


@login_required
def today(request):
    """The signed-in person's shifts today, with check-in and check-out, and their roles."""
    shifts = roster.person_day(request.user)
    roles = (
        RoleAssignment.objects.filter(person=request.user)
        .select_related("region")
        .order_by("region__path", "role")
    )
    local = timezone.localdate()
    week = roster.weekly_hours([request.user], local - dt.timedelta(days=local.weekday()))
    hours = week.get(request.user.pk, 0.0)
    return render(
        request,
        "duty/today.html",
        {
            "shifts": shifts,
            "roles": roles,
            "now": timezone.now(),
            "week_hours": hours,
            "hours_limit": roster.weekly_hours_limit(),
            "hours_warning": hours > roster.weekly_hours_limit(),
            "care": roster.care_records_for(request.user, local - dt.timedelta(days=7)),
        },
    )


def _own_shift_action(request, pk: int, action) -> object:
    try:
        shift = roster.shift_for_person(request.user, pk)
    except NotFound:
        raise Http404 from None
    try:
        action(shift=shift, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("duty_today")


@login_required
@require_POST
def check_in(request, pk: int):
    response = _own_shift_action(request, pk, roster.shift_check_in)
    if not messages.get_messages(request):
        messages.success(request, _("Checked in."))
    return response


@login_required
@require_POST
def check_out(request, pk: int):
    return _own_shift_action(request, pk, roster.shift_check_out)


# --- the ten roles ------------------------------------------------------------------------


@login_required
def roles(request):
    """The ten roles at a compound and who holds them; staff give a role to a person."""
    region = _region(request)
    if region.level != Level.COMPOUND:
        raise Http404
    if request.method == "POST":
        _require(request, Action.MANAGE_DUTY, region)
        person = User.objects.filter(pk=_int(request.POST.get("person"))).first()
        try:
            if person is None:
                raise DomainError(_("Choose a person."))
            services.role_assign(
                region=region, role=request.POST.get("role", ""), person=person, actor=request.user
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Role given."))
        return redirect(reverse("duty_roles") + f"?region={region.pk}")
    held: dict[str, list] = {code: [] for code in TenRole.values}
    for a in RoleAssignment.objects.filter(region=region).select_related("person"):
        held[a.role].append(a.person)
    may_manage = policy_for(request.user).can(Action.MANAGE_DUTY, region)
    people = []
    if may_manage:
        people = natural_sorted(
            User.objects.filter(is_active=True, region__compound_id=region.pk),
            key=lambda u: u.get_full_name() or u.username,
        )
    return render(
        request,
        "duty/roles.html",
        {
            "region": region,
            "rows": [(label, held[code]) for code, label in TenRole.choices],
            "choices": TenRole.choices,
            "may_manage": may_manage,
            "people": people,
            "care_kinds": CareRecord.Kind.choices,
        },
    )


# --- reporting ----------------------------------------------------------------------------


@csrf_protect
def report(request, token: str):
    """The public page behind a branch's QR code: no account needed."""
    try:
        branch = reporting.branch_for_token(token)
    except NotFound:
        raise Http404 from None
    status = 200
    values: dict = {}
    if request.method == "POST":
        values = {
            k: request.POST.get(k, "") for k in ("kind", "name", "id_number", "phone", "skills")
        }
        try:
            reporting.report_submit(branch=branch, ip=client_ip(request), **values)
        except RateLimited as exc:
            messages.error(request, exc.message)
            status = 429
        except DomainError as exc:
            messages.error(request, exc.message)
            status = 400
        else:
            return render(request, "duty/report_done.html", {"branch": branch})
    kinds = [(k.value, k.label) for k in REPORT_KINDS]
    return render(
        request,
        "duty/report.html",
        {"branch": branch, "kinds": kinds, "values": values},
        status=status,
    )


REPORTS_PAGE_SIZE = 100


@login_required
def report_list(request):
    """Reports to the branches inside; waiting ones first."""
    _require(request, Action.CONFIRM_REPORT)
    state = request.GET.get("state", Report.State.PENDING)
    if state not in Report.State.values:
        state = Report.State.PENDING
    # Paged, with the whole count: a community's confirmed reports run to thousands.
    page = Paginator(reporting.reports_for(request.user, state), REPORTS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "duty/report_list.html",
        {"reports": page.object_list, "page": page, "state": state, "states": Report.State.choices},
    )


def _report(request, pk: int) -> Report:
    _require(request, Action.CONFIRM_REPORT)
    return access_by_id(Report.objects.select_related("branch__region"), request.user, pk)


@login_required
@require_POST
def report_confirm(request, pk: int):
    item = _report(request, pk)
    try:
        item, password = reporting.report_confirm(
            report=item, actor=request.user, ip=client_ip(request)
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("duty_reports")
    return render(request, "duty/report_confirmed.html", {"report": item, "password": password})


@login_required
@require_POST
def report_reject(request, pk: int):
    item = _report(request, pk)
    try:
        reporting.report_reject(report=item, actor=request.user, ip=client_ip(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Report rejected."))
    return redirect("duty_reports")


@login_required
def branch_qr(request, pk: int):
    """The branch's reporting QR code, to print and put up at the gate."""
    branch = access_by_id(Branch.objects.select_related("region"), request.user, pk)
    _require(request, Action.CONFIRM_REPORT, branch)
    url = request.build_absolute_uri(reverse("party_report", args=[reporting.report_token(branch)]))
    return render(
        request,
        "duty/branch_qr.html",
        {"branch": branch, "url": url, "svg": reporting.qr_svg(url)},
    )


@login_required
@require_POST
def patrol_log(request, pk: int):
    """The person on a patrol shift writes what the round found."""
    try:
        shift = roster.shift_for_person(request.user, pk)
    except NotFound:
        raise Http404 from None
    try:
        roster.patrol_log(shift=shift, actor=request.user, note=request.POST.get("note", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Patrol log saved."))
    return redirect("duty_today")


@login_required
@require_POST
def care_add(request):
    """Care for a worker at a compound, recorded from the compound's roles page."""
    region = _region(request)
    _require(request, Action.MANAGE_DUTY, region)
    person = User.objects.filter(pk=_int(request.POST.get("person"))).first()
    try:
        if person is None:
            raise DomainError(_("Choose a person."))
        roster.care_record_add(
            person=person,
            kind=request.POST.get("kind", ""),
            note=request.POST.get("note", ""),
            actor=request.user,
        )
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Care recorded."))
    return redirect(reverse("duty_roles") + f"?region={region.pk}")


@login_required
def deployment_list(request):
    """Cadres deployed under a region, with their unit and rank; the chain and pairings.

    Identifiers follow the policy like residents': masked ID numbers on the page, phones
    in full only for the roles that see phones.
    """
    from django.core.paginator import Paginator

    from .models import Deployment, Pairing

    region = _region(request)
    deployments = (
        Deployment.objects.visible_to(request.user)
        .within(region)
        .select_related("cadre__org_unit", "region")
        .order_by("region__path", "cadre__name", "id")
    )
    page = Paginator(deployments, 50).get_page(request.GET.get("page"))
    pairings = (
        Pairing.objects.visible_to(request.user)
        .within(region)
        .select_related("org_unit", "community")
        .order_by("community__path", "org_unit__name")[:100]
    )
    return render(
        request,
        "duty/deployment_list.html",
        {
            "region": region,
            "page": page,
            "pairings": pairings,
            "chain": services.responsibility_chain(region)
            if region.level >= Level.TOWNSHIP
            else [],
        },
    )


@login_required
def branch_list(request):
    """Party branches under a region: kind, place, secretary, members, functional groups."""
    from django.db.models import Count

    region = _region(request)
    branches = (
        Branch.objects.visible_to(request.user)
        .within(region)
        .select_related("region", "secretary")
        .annotate(member_count=Count("members", distinct=True))
        .order_by("-kind", "region__path", "name")
    )
    return render(
        request,
        "duty/branch_list.html",
        {"region": region, "branches": list(branches[:300])},
    )

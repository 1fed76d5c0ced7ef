"""Pages for mobilisation and duty: posts and their roster, the person's day, the ten
roles at a compound, the branch's QR code and its reports, and the public reporting page.

Thin, like every view: parse, authorise through the policy, call one service, render.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
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
    """A refusal for the role is the domain's PermissionDenied: the 403 page says which
    roles may (see PermissionDeniedMiddleware); a target outside is a 404."""
    try:
        policy_for(request.user).require(action, target)
    except NotFound:
        raise Http404 from None


# --- posts and the roster ------------------------------------------------------------------


COMPOUNDS_SHOWN = 300


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
    may_manage_duty = policy_for(request.user).can(Action.MANAGE_DUTY, region)
    compounds = []
    if may_manage_duty and Level.TOWNSHIP <= region.level < Level.COMPOUND:
        # Where the ten roles are given: the compounds below, so that they can be found.
        compounds = natural_sorted(
            Region.objects.within(region)
            .filter(level=Level.COMPOUND)
            .only("id", "name", "path")[:COMPOUNDS_SHOWN],
            key=lambda r: r.path,
        )
    return render(
        request,
        "duty/post_list.html",
        {
            "region": region,
            "may_manage_duty": may_manage_duty,
            "compounds": compounds,
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
            item = reporting.report_submit(branch=branch, ip=client_ip(request), **values)
        except RateLimited as exc:
            messages.error(request, exc.message)
            status = 429
        except DomainError as exc:
            messages.error(request, exc.message)
            status = 400
        else:
            # Someone confirmed who scans again is told so, not thanked as if new; only
            # when the name matches too, so an ID number alone does not answer "confirmed?".
            confirmed = item.state == Report.State.CONFIRMED and item.name == values["name"].strip()
            return render(
                request, "duty/report_done.html", {"branch": branch, "confirmed": confirmed}
            )
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

    from .forms import BranchForm

    region = _scope(request)
    may_add = policy_for(request.user).can(Action.MANAGE_MOBILISATION, region)
    form = BranchForm(request.POST or None, scope=region) if may_add else None
    if request.method == "POST":
        _require(request, Action.MANAGE_MOBILISATION, region)
        assert form is not None
        branch = _apply(
            form,
            lambda d: services.branch_create(
                region=d["region"],
                name=d["name"],
                kind=d["kind"],
                setting=d["setting"],
                start=d["start"],
                end=d["end"],
                actor=request.user,
            ),
        )
        if branch is not None:
            messages.success(request, _("Branch created: now add its members."))
            return redirect("duty_branch", pk=branch.pk)
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
        {"region": region, "branches": list(branches[:300]), "form": form},
        status=400 if form is not None and form.errors else 200,
    )


# --- mobilisation: units, cadres, deployments, pairings, branches, the pipeline -----------
#
# For accounts whose role may MANAGE_MOBILISATION. Each page lists what is inside the
# page's region (`?region=`, else the jurisdiction) and carries the form that adds one;
# forms offer only places, units and branches inside, and the services check again.

LIST_PAGE_SIZE = 50


def _scope(request) -> Region:
    """The page's region from the query string only: the forms below have a `region`
    field of their own (the place picked), which must not move the page."""
    region_id = _int(request.GET.get("region"))
    if region_id is not None:
        return access_by_id(Region.objects.all(), request.user, region_id)
    region = policy_for(request.user).jurisdiction
    if region is None:
        raise Http404
    return region


def _manage(request, target=None) -> None:
    _require(request, Action.MANAGE_MOBILISATION, target)


def _apply(form, call) -> Any:
    """Run a service with the form's data; a refusal becomes the form's error."""
    if not form.is_valid():
        return None
    try:
        return call(form.cleaned_data)
    except DomainError as exc:
        form.add_error(None, exc.message)
        return None


def _back(url_name: str, region: Region | None = None, args=None) -> str:
    url = reverse(url_name, args=args)
    return f"{url}?region={region.pk}" if region is not None else url


@login_required
def units(request):
    """The units inside a region with their cadre counts; a new unit."""
    from django.db.models import Count

    from .forms import UnitForm
    from .models import OrgUnit

    scope = _scope(request)
    _manage(request, scope)
    form = UnitForm(request.POST or None, scope=scope)
    if request.method == "POST":
        unit = _apply(
            form,
            lambda d: services.unit_create(
                name=d["name"], kind=d["kind"], home=d["home"], actor=request.user
            ),
        )
        if unit is not None:
            messages.success(request, _("Unit created."))
            return redirect(_back("duty_units", scope))
    rows = (
        OrgUnit.objects.visible_to(request.user)
        .within(scope)
        .annotate(cadre_count=Count("cadres"))
        .select_related("home")
        .order_by("name")
    )
    page = Paginator(rows, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "duty/units.html",
        {"region": scope, "page": page, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def unit_edit(request, pk: int):
    from .forms import UnitForm
    from .models import OrgUnit

    unit = access_by_id(OrgUnit.objects.select_related("home"), request.user, pk)
    _manage(request, unit if unit.home_id else None)
    initial = {"name": unit.name, "kind": unit.kind}
    form = UnitForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST":
        saved = _apply(
            form,
            lambda d: services.unit_update(
                unit=unit, name=d["name"], kind=d["kind"], actor=request.user
            ),
        )
        if saved is not None:
            messages.success(request, _("Unit saved."))
            return redirect("duty_unit", pk=unit.pk)
    return render(
        request,
        "duty/unit.html",
        {"unit": unit, "form": form, "cadre_count": unit.cadres.count()},
        status=400 if form.errors else 200,
    )


@login_required
def cadres(request):
    """The cadres of the units inside a region, by unit and name; one new cadre."""
    from django.db.models import Q

    from .forms import CadreForm
    from .models import Cadre

    scope = _scope(request)
    _manage(request, scope)
    form = CadreForm(request.POST or None, user=request.user)
    if request.method == "POST":
        cadre = _apply(
            form,
            lambda d: services.cadre_create(
                org_unit=d["org_unit"],
                name=d["name"],
                id_number=d["id_number"],
                rank=d["rank"],
                phone=d["phone"],
                is_party_member=d["is_party_member"],
                actor=request.user,
            ),
        )
        if cadre is not None:
            messages.success(request, _("Cadre added."))
            return redirect("duty_cadre", pk=cadre.pk)
    rows = Cadre.objects.visible_to(request.user).within(scope).select_related("org_unit")
    if unit_id := _int(request.GET.get("unit")):
        rows = rows.filter(org_unit_id=unit_id)
    query = request.GET.get("q", "").strip()[:32]
    if query:
        rows = rows.filter(Q(name__contains=query) | Q(id_number=query.upper()))
    page = Paginator(rows.order_by("org_unit__name", "name", "id"), LIST_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "duty/cadres.html",
        {"region": scope, "page": page, "form": form, "q": query},
        status=400 if form.errors else 200,
    )


@login_required
def cadre_detail(request, pk: int):
    """One cadre: correct their record, send them down, end a deployment."""
    from .forms import CadreForm, DeploymentEndForm, DeploymentForm
    from .models import Cadre, Deployment

    cadre = access_by_id(Cadre.objects.select_related("org_unit"), request.user, pk)
    _manage(request)
    scope = _scope(request)
    which = request.POST.get("form") if request.method == "POST" else None
    initial = {
        "name": cadre.name,
        "rank": cadre.rank,
        "phone": cadre.phone,
        "is_party_member": cadre.is_party_member,
    }
    edit = CadreForm(
        request.POST if which == "edit" else None, initial=initial, user=request.user, editing=True
    )
    deploy = DeploymentForm(request.POST if which == "deploy" else None, scope=scope)
    if which == "edit":
        done = _apply(
            edit,
            lambda d: services.cadre_update(
                cadre=cadre,
                name=d["name"],
                rank=d["rank"],
                phone=d["phone"],
                is_party_member=d["is_party_member"],
                actor=request.user,
            ),
        )
        if done is not None:
            messages.success(request, _("Cadre saved."))
            return redirect("duty_cadre", pk=cadre.pk)
    elif which == "deploy":
        done = _apply(
            deploy,
            lambda d: services.deployment_create(
                cadre=cadre,
                region=d["region"],
                role=d["role"],
                start=d["start"],
                end=d["end"],
                task_force=d["task_force"],
                chain_level=d["chain_level"],
                actor=request.user,
            ),
        )
        if done is not None:
            messages.success(request, _("Deployment recorded."))
            return redirect("duty_cadre", pk=cadre.pk)
    deployments = (
        Deployment.objects.visible_to(request.user)
        .filter(cadre=cadre)
        .select_related("region")
        .order_by("-start", "id")
    )
    return render(
        request,
        "duty/cadre.html",
        {
            "cadre": cadre,
            "edit": edit,
            "deploy": deploy,
            "deployments": deployments,
            "end_form": DeploymentEndForm(initial={"end": timezone.localdate()}),
            "region": scope,
        },
        status=400 if (edit.errors or deploy.errors) else 200,
    )


@login_required
@require_POST
def deployment_end(request, pk: int):
    from .forms import DeploymentEndForm
    from .models import Deployment

    deployment = access_by_id(Deployment.objects.select_related("region"), request.user, pk)
    _manage(request, deployment)
    form = DeploymentEndForm(request.POST)
    done = _apply(
        form,
        lambda d: services.deployment_end(deployment=deployment, end=d["end"], actor=request.user),
    )
    if done is None:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    else:
        messages.success(request, _("Deployment ended."))
    if request.POST.get("back") == "cadre":
        return redirect("duty_cadre", pk=deployment.cadre_id)
    return redirect(_back("duty_deployments", deployment.region))


@login_required
def pairings(request):
    """Units paired with communities inside a region (结对共建); a new pairing."""
    from .forms import PairingForm
    from .models import Pairing

    scope = _scope(request)
    _manage(request, scope)
    form = PairingForm(request.POST or None, user=request.user, scope=scope)
    if request.method == "POST":
        pairing = _apply(
            form,
            lambda d: services.pairing_create(
                org_unit=d["org_unit"],
                community=d["community"],
                since=d["since"],
                actor=request.user,
            ),
        )
        if pairing is not None:
            messages.success(request, _("Pairing recorded."))
            return redirect(_back("duty_pairings", scope))
    rows = (
        Pairing.objects.visible_to(request.user)
        .within(scope)
        .select_related("org_unit", "community")
        .order_by("community__path", "org_unit__name")
    )
    page = Paginator(rows, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "duty/pairings.html",
        {"region": scope, "page": page, "form": form},
        status=400 if form.errors else 200,
    )


BRANCH_FORMS = ("edit", "member", "group", "zone", "team", "post")
BRANCH_MEMBERS_SHOWN = 200


@login_required
def branch_detail(request, pk: int):
    """One branch: its record and secretary, members, functional groups, responsibility
    zones, commando teams and the party posts at its place; a form to add each."""
    from .forms import BranchForm, GroupForm, MemberForm, PartyPostForm, TeamForm, ZoneForm
    from .models import PartyPost

    branch = access_by_id(Branch.objects.select_related("region", "secretary"), request.user, pk)
    _manage(request, branch)
    which = request.POST.get("form") if request.method == "POST" else None

    def bound(name):
        return request.POST if which == name else None

    initial = {
        "name": branch.name,
        "kind": branch.kind,
        "setting": branch.setting,
        "start": branch.start,
        "end": branch.end,
        "secretary": branch.secretary_id,
    }
    forms = {
        "edit": BranchForm(bound("edit"), initial=initial, branch=branch),
        "member": MemberForm(bound("member")),
        "group": GroupForm(bound("group")),
        "zone": ZoneForm(bound("zone"), branch=branch),
        "team": TeamForm(bound("team")),
        "post": PartyPostForm(bound("post"), branch=branch),
    }
    me = request.user
    calls = {
        "edit": lambda d: services.branch_update(
            branch=branch,
            name=d["name"],
            kind=d["kind"],
            setting=d["setting"],
            start=d["start"],
            end=d["end"],
            secretary=d["secretary"],
            actor=me,
        ),
        "member": lambda d: services.branch_add_member(branch=branch, actor=me, **d),
        "group": lambda d: services.party_group_create(branch=branch, actor=me, **d),
        "zone": lambda d: services.zone_create(
            branch=branch,
            name=d["name"],
            keeper=d["keeper"],
            buildings=list(d["buildings"]),
            actor=me,
        ),
        "team": lambda d: services.commando_team_create(
            region=branch.region, branch=branch, actor=me, **d
        ),
        "post": lambda d: services.party_post_create(actor=me, **d),
    }
    if which in BRANCH_FORMS and _apply(forms[which], calls[which]) is not None:
        messages.success(request, _("Saved."))
        return redirect("duty_branch", pk=branch.pk)
    members = branch.members.order_by("name", "id")
    return render(
        request,
        "duty/branch.html",
        {
            "branch": branch,
            "forms": forms,
            "failed": which,
            "member_count": members.count(),
            "members": list(members[:BRANCH_MEMBERS_SHOWN]),
            "groups": list(branch.groups.order_by("function")),
            "zones": list(branch.zones.prefetch_related("buildings").order_by("name")),
            "teams": list(branch.teams.order_by("name")),
            "posts": list(
                PartyPost.objects.visible_to(me)
                .within(branch.region)
                .select_related("region")
                .order_by("name")[:100]
            ),
        },
        status=400 if which in BRANCH_FORMS else 200,
    )


@login_required
def pipeline(request):
    """The membership pipeline inside a region: counts by stage, the people, a new entry."""
    from django.db.models import Count, Q

    from .forms import AdvanceForm, PipelineForm
    from .models import PipelineEntry

    scope = _scope(request)
    _manage(request, scope)
    form = PipelineForm(request.POST or None, user=request.user, scope=scope)
    if request.method == "POST":
        entry = _apply(
            form,
            lambda d: services.pipeline_record(actor=request.user, **d),
        )
        if entry is not None:
            messages.success(request, _("Entry recorded."))
            return redirect(_back("duty_pipeline", scope))
    entries = PipelineEntry.objects.visible_to(request.user).within(scope)
    # One grouped query for the counts, one for the frontline-identified activists.
    counts = dict(entries.values_list("stage").annotate(n=Count("id")).order_by())
    frontline_count = entries.aggregate(n=Count("id", filter=Q(identified_in_frontline=True)))["n"]
    stage = request.GET.get("stage", "")
    rows = entries.filter(stage=stage) if stage in PipelineEntry.Stage.values else entries
    page = Paginator(
        rows.select_related("branch").order_by("-assessed_on", "-id"), LIST_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "duty/pipeline.html",
        {
            "region": scope,
            "stages": [
                (code, label, counts.get(code, 0)) for code, label in PipelineEntry.Stage.choices
            ],
            "total": sum(counts.values()),
            "frontline_count": frontline_count,
            "stage": stage,
            "page": page,
            "form": form,
            "advance": AdvanceForm(initial={"assessed_on": timezone.localdate()}),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def pipeline_advance(request, pk: int):
    from .forms import AdvanceForm
    from .models import PipelineEntry

    entry = access_by_id(PipelineEntry.objects.select_related("branch__region"), request.user, pk)
    _manage(request, entry)
    form = AdvanceForm(request.POST)
    done = _apply(
        form,
        lambda d: services.pipeline_advance(
            entry=entry, stage=d["stage"], assessed_on=d["assessed_on"], actor=request.user
        ),
    )
    if done is None:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    else:
        messages.success(request, _("Entry moved to the next stage."))
    return redirect(_back("duty_pipeline", entry.branch.region))

"""Testing rounds in the browser: the sampler's phone page, the progress board, the lists
(missing, door to door, retest) and the lab file upload with its preview and commit."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from frontline.accounts.policy import Action, policy_for
from frontline.audit.services import client_ip
from frontline.core.access import access_by_id
from frontline.core.errors import DomainError
from frontline.core.files import purge_stale_uploads
from frontline.territory.models import Level, Region

from . import testing
from .models import SamplingPoint, Tube, TubeResult
from .results import import_results, upload_too_large
from .views_isolation import _status_of

PAGE_SIZE = 50
_TOKEN = re.compile(r"^[0-9a-f]{32}$")
_SESSION_KEY = "lab_result_uploads"
EXTENSIONS = (".csv", ".xlsx")


def _round(request, pk: int):
    return testing.round_for(request.user, pk)


def _region(request) -> Region | None:
    """The region of `?region=ID` inside the jurisdiction (404 outside), or None."""
    value = request.GET.get("region", "").strip()
    if not value:
        return None
    return access_by_id(Region.objects.all(), request.user, value)


def _require(request, action: Action) -> None:
    if not policy_for(request.user).can(action):
        raise PermissionDenied


class RoundForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name of the round"), max_length=testing.NAME_MAX)
    date = forms.DateField(
        label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    regions = forms.CharField(
        label=gettext_lazy("Regions (one path a line)"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    tube_size = forms.IntegerField(
        label=gettext_lazy("Residents per tube"),
        min_value=testing.TUBE_SIZE_MIN,
        max_value=testing.TUBE_SIZE_MAX,
        initial=testing.TUBE_SIZE_DEFAULT,
    )


@login_required
def testing_rounds(request):
    """The rounds the account may see; staff create one here."""
    policy = policy_for(request.user)
    form = None
    if policy.may_manage_testing:
        home = policy.jurisdiction
        form = RoundForm(
            request.POST or None,
            initial={
                "date": timezone.localdate(),
                "regions": home.display_path if home is not None else "",
                "tube_size": testing.TUBE_SIZE_DEFAULT,
            },
        )
    if request.method == "POST":
        _require(request, Action.MANAGE_TESTING)
        assert form is not None
        if form.is_valid():
            data = form.cleaned_data
            try:
                regions = [
                    policy.region_by_path(line)
                    for line in data["regions"].splitlines()
                    if line.strip()
                ]
                created = testing.round_create(
                    name=data["name"],
                    date=data["date"],
                    regions=regions,
                    tube_size=data["tube_size"],
                    actor=request.user,
                )
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("The testing round was created."))
                return redirect("testing_round", created.pk)
    rounds = list(testing.rounds_visible_to(request.user)[:100])
    return render(request, "health/testing_rounds.html", {"rounds": rounds, "form": form})


class RegionChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        return obj.path or obj.name


class PointForm(forms.Form):
    """A sampling point: the place is chosen among the round's places inside the
    jurisdiction (a place outside, posted by hand, is refused like one that is not)."""

    name = forms.CharField(
        label=gettext_lazy("Name of the sampling point"), max_length=testing.NAME_MAX
    )
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=SamplingPoint.Kind.choices)
    place = RegionChoice(
        queryset=Region.objects.none(),
        label=gettext_lazy("Place"),
        empty_label="—",
        error_messages={
            "invalid_choice": gettext_lazy("Choose a place of the round inside your jurisdiction."),
            "required": gettext_lazy("Choose a place."),
        },
    )
    opens = forms.TimeField(
        label=gettext_lazy("Opens"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": gettext_lazy("Give the time as HH:MM, e.g. 07:30.")},
    )
    closes = forms.TimeField(
        label=gettext_lazy("Closes"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": gettext_lazy("Give the time as HH:MM, e.g. 07:30.")},
    )

    def __init__(self, *args, round, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = testing.point_places(round, user)  # type: ignore[attr-defined]


def _point_form(request, found, data=None) -> PointForm | None:
    if not policy_for(request.user).may_manage_testing or found.closed_at is not None:
        return None
    return PointForm(data, round=found, user=request.user, prefix="point")


def _round_page(request, found, point_form=None, status: int = 200):
    region = _region(request)
    board = testing.coverage_board(found, request.user, region)
    return render(
        request,
        "health/testing_round.html",
        {
            "round": found,
            "region": region,
            "board": board,
            "regions": testing.round_regions_for(found, request.user),
            "points": testing.points_for(found, request.user),
            "point_form": point_form or _point_form(request, found),
        },
        status=status,
    )


@login_required
def testing_round(request, pk: int):
    """The round's progress board: coverage per compound and building, live; its
    sampling points, and for staff the form that adds one."""
    return _round_page(request, _round(request, pk))


@login_required
@require_POST
def testing_point_add(request, pk: int):
    """Add a sampling point to the round (the form on the round's page)."""
    _require(request, Action.MANAGE_TESTING)
    found = _round(request, pk)
    # A closed round is refused by the service, in words, on the page.
    form = PointForm(request.POST, round=found, user=request.user, prefix="point")
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            testing.point_create(
                round=found,
                region=data["place"],
                name=data["name"],
                kind=data["kind"],
                opens=data["opens"],
                closes=data["closes"],
                actor=request.user,
                ip=client_ip(request),
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
            status = _status_of(exc)
        else:
            messages.success(request, _("The sampling point was added."))
            return redirect("testing_round", found.pk)
    return _round_page(request, found, form, status=status)


@login_required
def testing_point_edit(request, pk: int):
    """Correct a sampling point, or remove one set up by mistake: `?remove=1` (or a POST
    of `remove` alone) asks to confirm; a POST of `remove` and `confirm` removes it."""
    _require(request, Action.MANAGE_TESTING)
    point = access_by_id(SamplingPoint.objects.select_related("round", "region"), request.user, pk)
    found = point.round
    if not testing.rounds_visible_to(request.user).filter(pk=found.pk).exists():
        raise Http404
    initial = {
        "name": point.name,
        "kind": point.kind,
        "place": point.region_id,
        "opens": point.opens,
        "closes": point.closes,
    }
    data = request.POST if request.method == "POST" else None
    form = PointForm(data, initial=initial, round=found, user=request.user, prefix="point")
    status = 200
    removing = (request.POST if request.method == "POST" else request.GET).get("remove") == "1"
    if removing and not (request.method == "POST" and request.POST.get("confirm") == "1"):
        return render(request, "health/testing_point_remove.html", {"round": found, "point": point})
    if request.method == "POST":
        try:
            if removing:
                testing.point_remove(point=point, actor=request.user, ip=client_ip(request))
                messages.success(request, _("The sampling point was removed."))
                return redirect("testing_round", found.pk)
            if form.is_valid():
                data = form.cleaned_data
                testing.point_update(
                    point=point,
                    region=data["place"],
                    name=data["name"],
                    kind=data["kind"],
                    opens=data["opens"],
                    closes=data["closes"],
                    actor=request.user,
                    ip=client_ip(request),
                )
                messages.success(request, _("The sampling point was saved."))
                return redirect("testing_round", found.pk)
        except DomainError as exc:
            form.add_error(None, str(exc))
            status = _status_of(exc)
        else:
            status = 400
    return render(
        request,
        "health/testing_point.html",
        {"round": found, "point": point, "form": form},
        status=status,
    )


def _page(request, rows):
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


@login_required
def testing_missing(request, pk: int):
    """Who is expected and not sampled yet, within a region."""
    found = _round(request, pk)
    region = _region(request)
    page = _page(request, testing.missing_residents(found, request.user, region))
    return render(
        request,
        "health/testing_list.html",
        {
            "round": found,
            "region": region,
            "page": page,
            "title": _("Not sampled yet"),
            "kind": "missing",
        },
    )


@login_required
def testing_door(request, pk: int):
    """The door-to-door list: residents of sealed buildings, the bedridden and elderly."""
    found = _round(request, pk)
    region = _region(request)
    page = _page(request, testing.door_to_door(found, request.user, region))
    return render(
        request,
        "health/testing_list.html",
        {
            "round": found,
            "region": region,
            "page": page,
            "title": _("Door-to-door sampling"),
            "kind": "door",
        },
    )


@login_required
def testing_retest(request, pk: int):
    """Residents of abnormal tubes (retest) and their households (control)."""
    _require(request, Action.MANAGE_TESTING)
    found = _round(request, pk)
    region = _region(request)
    page = _page(request, testing.retest_list(found, request.user, region))
    return render(
        request,
        "health/testing_list.html",
        {
            "round": found,
            "region": region,
            "page": page,
            "title": _("Retest and control list"),
            "kind": "retest",
        },
    )


# --- the sampler's phone page -----------------------------------------------------------------


def _tube_status(found, user, code: str) -> dict | None:
    if not code:
        return None
    tube = (
        Tube.objects.visible_to(user)
        .filter(round=found, code=code)
        .only("id", "code", "round_id", "result")
        .first()
    )
    if tube is None:
        return {"code": code, "held": 0, "left": found.tube_size, "new": True}
    held = tube.samples.count()
    return {"code": code, "held": held, "left": max(found.tube_size - held, 0), "new": False}


def _point_key(found) -> str:
    return f"sampling_point:{found.pk}"


def _sampling_point(request, found) -> SamplingPoint | None:
    """The point the sampler said they are at, remembered for the round in the session
    (a POST of `point` sets it, an empty one clears it); None if gone or out of sight."""
    key = _point_key(found)
    if request.method == "POST" and "point" in request.POST:
        value = request.POST.get("point", "").strip()
        if not value:
            request.session.pop(key, None)
            return None
        point = access_by_id(testing.points_for(found, request.user), request.user, value)
        request.session[key] = point.pk
        return point
    if (remembered := request.session.get(key)) is None:
        return None
    return testing.points_for(found, request.user).filter(pk=remembered).first()


def _sampler_context(request, found, building, code: str, point=None, **extra) -> dict:
    status = _tube_status(found, request.user, code)
    if status is not None and status["left"] == 0:
        code = ""  # the tube is full: the next scan starts a new one
    return {
        "round": found,
        "building": building,
        "households": testing.building_households(found, request.user, building),
        "code": code,
        "status": status,
        "points": list(testing.points_for(found, request.user)),
        "point": point,
        **extra,
    }


@login_required
def testing_sample(request, pk: int):
    """Pick a building, tick a household's members, scan or type the tube code, save."""
    _require(request, Action.RECORD_SAMPLE)
    found = _round(request, pk)
    source = request.POST if request.method == "POST" else request.GET
    building_id = source.get("building", "").strip()
    if not building_id:
        board = testing.coverage_board(found, request.user)
        return render(request, "health/testing_sample.html", {"round": found, "board": board})
    building = access_by_id(Region.objects.filter(level=Level.BUILDING), request.user, building_id)
    if not testing.region_in_round(found, building):
        raise Http404
    point = _sampling_point(request, found)
    if request.method != "POST":
        code = request.GET.get("code", "").strip()
        context = _sampler_context(request, found, building, code, point=point)
        if saved := request.GET.get("saved"):
            context["saved"] = saved
        return render(request, "health/testing_sample.html", context)
    code = request.POST.get("code", "").strip()
    ticked = request.POST.getlist("resident")
    try:
        tube = testing.tube_record(
            round=found, code=code, residents=ticked, actor=request.user, point=point
        )
    except DomainError as exc:
        status = {"conflict": 409, "not_found": 404, "permission_denied": 403}.get(exc.code, 400)
        context = _sampler_context(request, found, building, code, point=point, error=str(exc))
        template = "health/_testing_sampler.html" if request.htmx else "health/testing_sample.html"
        # htmx swaps only successful answers: the refusal is the page's content there.
        return render(request, template, context, status=200 if request.htmx else status)
    if not request.htmx:
        query = urlencode({"building": building.pk, "code": tube.code, "saved": len(ticked)})
        return redirect(reverse("testing_sample", args=[found.pk]) + "?" + query)
    context = _sampler_context(request, found, building, tube.code, point=point, saved=len(ticked))
    return render(request, "health/_testing_sampler.html", context)


# --- results --------------------------------------------------------------------------------


class ResultUploadForm(forms.Form):
    sheet = forms.FileField(
        label=gettext_lazy("Lab result file (.xlsx or .csv)"),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(EXTENSIONS)}),
    )

    def clean_sheet(self):
        sheet = self.cleaned_data["sheet"]
        if Path(sheet.name).suffix.lower() not in EXTENSIONS:
            raise forms.ValidationError(_("Upload an .xlsx or .csv file."))
        if refusal := upload_too_large(sheet.size):
            raise forms.ValidationError(refusal)
        return sheet

    @property
    def extension(self) -> str:
        return Path(self.cleaned_data["sheet"].name).suffix.lower()


class ResultForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Tube code"), max_length=testing.CODE_MAX)
    result = forms.ChoiceField(
        label=gettext_lazy("Result"),
        choices=[(TubeResult.NEGATIVE, "阴性"), (TubeResult.POSITIVE, "阳性")],
    )


def _upload_path(user, token: str, extension: str) -> Path:
    return Path(settings.UPLOAD_DIR) / f"{user.pk}-lab-{token}{extension}"


def _results_page(request, found, status: int = 200, **extra):
    abnormal = (
        Tube.objects.visible_to(request.user)
        .filter(round=found, result=TubeResult.POSITIVE)
        .order_by("code")
    )
    context = {
        "round": found,
        "form": ResultUploadForm(),
        "single": ResultForm(),
        "abnormal": abnormal,
        **extra,
    }
    return render(request, "health/testing_results.html", context, status=status)


@login_required
def testing_results(request, pk: int):
    """Upload a lab file: it is checked (a dry run) and shown before it is committed."""
    _require(request, Action.MANAGE_TESTING)
    found = _round(request, pk)
    if request.method != "POST":
        return _results_page(request, found)
    purge_stale_uploads()
    form = ResultUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _results_page(request, found, status=400, form=form)
    sheet = form.cleaned_data["sheet"]
    token = secrets.token_hex(16)
    path = _upload_path(request.user, token, form.extension)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with path.open("wb") as out:
        for chunk in sheet.chunks():
            out.write(chunk)
    try:
        result = import_results(
            path, round=found, filename=sheet.name, actor=request.user, dry_run=True
        )
    except DomainError as exc:
        path.unlink(missing_ok=True)
        messages.error(request, str(exc))
        return _results_page(request, found)
    if result.ok:
        pending = request.session.get(_SESSION_KEY, {})
        pending[token] = {"filename": sheet.name, "extension": form.extension, "round": found.pk}
        request.session[_SESSION_KEY] = pending
    else:
        path.unlink(missing_ok=True)
    return _results_page(
        request,
        found,
        result=result,
        filename=sheet.name,
        token=token if result.ok else None,
    )


@login_required
@require_POST
def testing_results_commit(request, pk: int, token: str):
    _require(request, Action.MANAGE_TESTING)
    found = _round(request, pk)
    pending = request.session.get(_SESSION_KEY, {})
    upload = pending.get(token) if _TOKEN.match(token) else None
    if upload is None or upload["round"] != found.pk:
        raise Http404
    path = _upload_path(request.user, token, upload["extension"])
    if not path.exists():
        pending.pop(token, None)
        request.session[_SESSION_KEY] = pending
        raise Http404
    try:
        result = import_results(path, round=found, filename=upload["filename"], actor=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
        return _results_page(request, found)
    if result.ok:
        path.unlink(missing_ok=True)
        pending.pop(token, None)
        request.session[_SESSION_KEY] = pending
        messages.success(request, _("The lab results were imported."))
    return _results_page(
        request, found, result=result, filename=upload["filename"], committed=result.ok
    )


@login_required
@require_POST
def testing_result_set(request, pk: int):
    """One tube's result typed in (a phone call from the lab)."""
    _require(request, Action.MANAGE_TESTING)
    found = _round(request, pk)
    form = ResultForm(request.POST)
    if not form.is_valid():
        return _results_page(request, found, status=400, single=form)
    try:
        tube = testing.tube_by_code(found, request.user, form.cleaned_data["code"])
        testing.result_set(tube=tube, result=form.cleaned_data["result"], actor=request.user)
    except DomainError as exc:
        form.add_error(None, str(exc))
        status = 404 if exc.code == "not_found" else 400
        return _results_page(request, found, status=status, single=form)
    messages.success(
        request, _("Tube %(code)s: result entered.") % {"code": form.cleaned_data["code"]}
    )
    return redirect("testing_results", found.pk)

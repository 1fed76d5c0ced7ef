"""Reads of requests, shared by the pages and the API, so both mean the same thing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch
from django.http import Http404
from django.utils.translation import gettext as _

from frontline.audit.models import AuditAction
from frontline.audit.services import audit_record
from frontline.core.errors import DomainError
from frontline.territory.models import Region

from .models import OPEN_STATUSES, Category, Request, RequestEvent, RequestPhoto, Status


def visible_requests(user: Any):
    """Requests inside the user's jurisdiction, and those assigned to the user."""
    inside = Request.objects.visible_to(user)
    if getattr(user, "pk", None) is None:
        return inside
    return inside | Request.objects.filter(assignee_id=user.pk)


def requests_for(
    user: Any, *, region: Region | None = None, status: str = "", overdue: bool = False
):
    requests = visible_requests(user)
    if region is not None:
        requests = requests.within(region)
    if status:
        if status == "open":
            requests = requests.open()
        elif status not in Status.values:
            raise DomainError(
                _("The status is one of: %(choices)s.")
                % {"choices": ", ".join(["open", *Status.values])}
            )
        else:
            requests = requests.filter(status=status)
    if overdue:
        requests = requests.overdue()
    return requests.select_related("household__building", "assignee", "duplicate_of").order_by(
        "-created_at", "-id"
    )


def _history() -> Prefetch:
    return Prefetch("events", queryset=RequestEvent.objects.order_by("at", "id"))


def with_history(request: Request) -> Request:
    """`request` with its history and photos read, for an answer built from a request
    already in hand: the one a service just created or moved.

    Two plain queries put where `request.events.all()` and `request.photos.all()` look
    first (the prefetch cache): `prefetch_related_objects` did the same for one row at
    2.5 times the CPU (1.8 against 0.7 ms, bench/README.md), on every step's answer."""
    cache = request.__dict__.setdefault("_prefetched_objects_cache", {})
    cache["events"] = list(RequestEvent.objects.filter(request=request).order_by("at", "id"))
    cache["photos"] = list(RequestPhoto.objects.filter(request=request))
    return request


def request_for(
    user: Any, pk: Any, *, channel: str = "page", ip: str | None = None, audit: bool = True
) -> Request:
    """One request with its history, 404 outside; the read is audited (it names a household
    and what it needs)."""
    try:
        request = (
            visible_requests(user)
            .select_related("household__building", "resident", "assignee", "duplicate_of")
            .prefetch_related(_history(), "photos")
            .get(pk=pk)
        )
    except (Request.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if not audit:  # the caller's own write was audited already (the answer to a creation)
        return request
    audit_record(
        actor=user,
        action=AuditAction.VIEW_REQUEST,
        object_type="request",
        object_id=request.pk,
        region=request.household.building,
        detail={"number": request.number, "channel": channel},
        ip=ip,
    )
    return request


# --- dispatch help (派单) ---------------------------------------------------------------------

# Which of the ten roles (十大员) does each kind of request: the purchaser buys groceries and
# medicine, the delivery worker drives the dialysis run, the repairs worker mends, the
# counsellor talks; a policy question goes to whoever explains policy (publicity) or keeps
# the information, anything else to the coordinator and the duty officer.
CATEGORY_ROLES: dict[str, tuple[str, ...]] = {
    Category.GROCERIES: ("purchasing",),
    Category.MEDICINE: ("purchasing",),
    Category.MEDICAL: ("delivery",),
    Category.REPAIR: ("repairs",),
    Category.COUNSELLING: ("counselling",),
    Category.CONSULTATION: ("publicity", "information"),
    Category.OTHER: ("coordination", "duty"),
}


@dataclass(frozen=True)
class Suggestion:
    """One person a dispatcher could give the request to.

    `user` is None for a grid member without an account: they are shown (the dispatcher
    knows them and may phone them) but cannot be dispatched to, since an assignee is an
    account that steps the request on its phone page.
    """

    name: str
    user: Any
    source: str  # "duty": holds a matching role at the compound; "grid"; "place"
    roles: tuple[str, ...]
    on_shift: bool
    open_requests: int
    can_take: bool
    why_not: str = ""

    @property
    def username(self) -> str:
        return self.user.username if self.user is not None else ""

    @property
    def role_labels(self) -> list[str]:
        from frontline.duty.models import TenRole

        return [str(TenRole(code).label) for code in self.roles]


@dataclass(frozen=True)
class DispatchHelp:
    people: list[Suggestion]  # may be dispatched to, in the order to offer them
    others: list[Suggestion]  # known at the place but not dispatchable, with the reason


def dispatch_suggestions(user: Any, request: Request, *, limit: int = 10) -> DispatchHelp:
    """Who to dispatch `request` to, as `user` (the dispatcher) may know them.

    First the people holding the matching duty role at the request's compound (a dialysis
    run: the delivery workers), then the workers of the grid covering its building and the
    accounts that work there; fewest open requests first, and among equals those not on a
    shift right now. Everything is confined to the dispatcher's jurisdiction. Six queries
    whatever the number of people.
    """
    from frontline.accounts.models import User
    from frontline.accounts.policy import ROLE_ACTIONS, Action, policy_for
    from frontline.duty.queries import suggested_people
    from frontline.territory.models import Grid, GridMember, Region

    found: dict[int, dict[str, Any]] = {}
    if request.compound_id is None:  # every household's building is in a compound
        return DispatchHelp(people=[], others=[])
    for c in suggested_people(user, request.compound_id, CATEGORY_ROLES[request.category]):
        found[c.person.pk] = {
            "user": c.person,
            "source": "duty",
            "roles": c.roles,
            "on_shift": c.on_duty,
        }
    takers = [role for role, actions in ROLE_ACTIONS.items() if Action.WORK_REQUEST in actions]
    places = [pk for pk in (request.building_id, request.compound_id, request.community_id) if pk]
    inside = Region.objects.visible_to(user).filter(pk__in=places)
    for person in (
        User.objects.filter(
            is_active=True, role__in=takers, region_id__in=places, region__in=inside
        )
        .select_related("region")
        .order_by("-region__level", "username")
    ):
        found.setdefault(
            person.pk, {"user": person, "source": "place", "roles": (), "on_shift": False}
        )
    grids = Grid.objects.visible_to(user).filter(
        coverage__in=[pk for pk in (request.building_id, request.compound_id) if pk]
    )
    without_account: list[Suggestion] = []
    for member in (
        GridMember.objects.filter(role=GridMember.Role.WORKER, grid__in=grids)
        .select_related("user__region")
        .order_by("name", "id")
        .distinct()
    ):
        if member.user is None:
            without_account.append(
                Suggestion(
                    name=member.name,
                    user=None,
                    source="grid",
                    roles=(),
                    on_shift=False,
                    open_requests=0,
                    can_take=False,
                    why_not=_("No account yet: cannot be dispatched to."),
                )
            )
        elif member.user.is_active:
            entry = found.setdefault(
                member.user.pk,
                {"user": member.user, "source": "grid", "roles": (), "on_shift": False},
            )
            if entry["source"] == "place":
                entry["source"] = "grid"
    counts = dict(
        Request.objects.filter(assignee_id__in=list(found), status__in=OPEN_STATUSES)
        .values("assignee_id")
        .annotate(n=Count("id"))
        .values_list("assignee_id", "n")
    )
    people: list[Suggestion] = []
    others: list[Suggestion] = []
    for pk, entry in found.items():
        person = entry["user"]
        can_take = policy_for(person).may_take_request(request)
        suggestion = Suggestion(
            name=person.get_full_name() or person.username,
            user=person,
            source=entry["source"],
            roles=tuple(entry["roles"]),
            on_shift=entry["on_shift"],
            open_requests=counts.get(pk, 0),
            can_take=can_take,
            why_not=""
            if can_take
            else _("Their account's role or place does not cover this request."),
        )
        (people if can_take else others).append(suggestion)
    # Among equals, those working closest to the request (a building before its community).
    people.sort(
        key=lambda s: (
            s.source != "duty",
            s.open_requests,
            s.on_shift,
            -(s.user.region.level if s.user.region_id else 0),
            s.user.username,
        )
    )
    others.sort(key=lambda s: (s.source != "duty", s.name))
    return DispatchHelp(people=people[:limit], others=(others + without_account)[:limit])

"""The jurisdiction policy: the one place that decides what an account may see and do.

Modelled on Wagtail's permission policies and Zulip's access helpers. For an account it
answers four questions, and nothing else in the code base answers them:

- which rows: `policy.rows(queryset)` (what `ScopedQuerySet.visible_to` calls);
- whether a region or a located object is inside: `policy.contains(target)`;
- whether an action is allowed, on a target or at all: `policy.can(action, target)`,
  `policy.require(action, target)`;
- how each personal field is shown: `policy.id_number(value)`, `policy.phone(value)`,
  `policy.birth_date(resident)`, `policy.health_notes(resident)`.

Views, API views and serializers, templates (through the `policy` context variable and
the `frontline` filters), commands, the census import and export, and the admin all ask
here. The role table below is the whole of the rule; the README prints it for people.

Why birth dates follow ID numbers: a masked ID (`340102********1234`) hides exactly the
eight digits of the birth date, so showing the birth date beside it gives the ID back.
Whoever may not see the full ID sees the age in whole years and no birth date.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext

from frontline.core.errors import NotFound, PermissionDenied
from frontline.core.masking import mask_id_number, mask_phone

from .models import Role

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from frontline.territory.models import Region

    from .models import User


class Action(StrEnum):
    # Personal records (households, residents) inside the jurisdiction.
    VIEW = "view"
    IMPORT_CENSUS = "import_census"
    EXPORT_CENSUS = "export_census"
    # Move a resident registered in one place to another; both must be inside.
    TRANSFER = "transfer"
    MANAGE_ACCOUNTS = "manage_accounts"
    SEE_FULL_ID = "see_full_id"
    SEE_FULL_PHONE = "see_full_phone"
    SEE_BIRTH_DATE = "see_birth_date"
    SEE_HEALTH_NOTES = "see_health_notes"
    READ_AUDIT = "read_audit"
    # A door visit (走访) to a household inside: everyone who works in the field.
    RECORD_VISIT = "record_visit"
    # Requests (诉求, the five orders): register one, dispatch or cancel one, close one
    # with the resident; WORK_REQUEST is being an assignee, who steps their own requests.
    CREATE_REQUEST = "create_request"
    DISPATCH_REQUEST = "dispatch_request"
    CLOSE_REQUEST = "close_request"
    WORK_REQUEST = "work_request"
    # Mobilisation (frontline.duty): units, cadres, deployments, branches, the cadre import.
    MANAGE_MOBILISATION = "manage_mobilisation"
    # Posts, shifts and the ten roles at places inside.
    MANAGE_DUTY = "manage_duty"
    # Confirm or reject party members who reported to a branch inside.
    CONFIRM_REPORT = "confirm_report"
    # Health operations (frontline.health). Set and lift risk zones over regions inside.
    MANAGE_ZONES = "manage_zones"
    # Create testing rounds and sampling points, enter and import lab results.
    MANAGE_TESTING = "manage_testing"
    # Put residents into tubes of a round (the sampler's phone page): everyone in the field.
    RECORD_SAMPLE = "record_sample"
    # Open, reassign and release home-isolation cases; set up care services.
    MANAGE_ISOLATION = "manage_isolation"
    # Record a twice-daily health visit or a care trip: staff, the grid, and the person
    # who keeps the case (一人包一), whatever their role (checked on the case).
    RECORD_HEALTH_VISIT = "record_health_visit"
    # Isolation points, transfer teams, transfers and releases.
    MANAGE_TRANSFERS = "manage_transfers"
    # Supervision (frontline.supervision, 督查): run inspections of places inside, notify
    # their problems, verify (销号) or reject a reported rectification.
    INSPECT = "inspect"
    # Acknowledge and report the rectification (整改) of a problem notified to a place inside.
    RECTIFY = "rectify"


A = Action
_STAFF = {
    A.VIEW,
    A.RECORD_VISIT,
    A.SEE_FULL_ID,
    A.SEE_FULL_PHONE,
    A.SEE_BIRTH_DATE,
    A.SEE_HEALTH_NOTES,
}
_CENSUS = {A.IMPORT_CENSUS, A.EXPORT_CENSUS, A.TRANSFER}
# Who registers, dispatches and closes requests: staff and the grid. Everybody who serves
# residents may be an assignee.
_REQUESTS = {A.CREATE_REQUEST, A.DISPATCH_REQUEST, A.CLOSE_REQUEST, A.WORK_REQUEST}
# Staff run mobilisation and confirm reports; a grid chief also keeps the roster.
_MOBILISE = {A.MANAGE_MOBILISATION, A.MANAGE_DUTY, A.CONFIRM_REPORT}
# Health operations: staff run them; the grid keeps cases and records samples and visits;
# cadres and volunteers (检测员, 一人包一) record samples and the visits of cases they keep.
_HEALTH = {
    A.MANAGE_ZONES,
    A.MANAGE_TESTING,
    A.RECORD_SAMPLE,
    A.MANAGE_ISOLATION,
    A.RECORD_HEALTH_VISIT,
    A.MANAGE_TRANSFERS,
}
_HEALTH_GRID = {A.RECORD_SAMPLE, A.MANAGE_ISOLATION, A.RECORD_HEALTH_VISIT}
_HEALTH_FIELD = {A.RECORD_SAMPLE, A.RECORD_HEALTH_VISIT}
# Supervision: staff from the township up inspect; the staff of a place (and its grid
# chief) rectify what was notified to it. Township staff do both, for different places.
_INSPECT = {A.INSPECT}
_RECTIFY = {A.RECTIFY}

# Personal-information protection, minimum necessary (PIPL Art. 6, GB/T 35273 §5.2).
# Staff who run the census and verify identities see ID numbers (and so birth dates) in
# full; those who phone residents see phones; the grid chief and workers who care for
# the residents of their place read the health notes; deployed cadres and volunteers
# see names, ages, care-group labels and masked identifiers. Care-group labels are not in
# the table: everyone who serves residents needs them, so every role that may VIEW sees
# them.
ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.CITY_ADMIN: frozenset(
        _STAFF
        | _CENSUS
        | _REQUESTS
        | _MOBILISE
        | _HEALTH
        | _INSPECT
        | {A.MANAGE_ACCOUNTS, A.READ_AUDIT}
    ),
    Role.DISTRICT_STAFF: frozenset(
        _STAFF | _CENSUS | _REQUESTS | _MOBILISE | _HEALTH | _INSPECT | _RECTIFY
    ),
    Role.TOWNSHIP_STAFF: frozenset(
        _STAFF | _CENSUS | _REQUESTS | _MOBILISE | _HEALTH | _INSPECT | _RECTIFY
    ),
    Role.COMMUNITY_STAFF: frozenset(_STAFF | _CENSUS | _REQUESTS | _MOBILISE | _HEALTH | _RECTIFY),
    Role.GRID_CHIEF: frozenset(
        {A.VIEW, A.RECORD_VISIT, A.SEE_FULL_PHONE, A.SEE_HEALTH_NOTES, A.MANAGE_DUTY}
        | _REQUESTS
        | _HEALTH_GRID
        | _RECTIFY
    ),
    Role.GRID_WORKER: frozenset(
        {A.VIEW, A.RECORD_VISIT, A.SEE_FULL_PHONE, A.SEE_HEALTH_NOTES} | _REQUESTS | _HEALTH_FIELD
    ),
    Role.CADRE: frozenset({A.VIEW, A.RECORD_VISIT, A.WORK_REQUEST} | _HEALTH_FIELD),
    Role.VOLUNTEER: frozenset({A.VIEW, A.RECORD_VISIT, A.WORK_REQUEST, A.RECORD_SAMPLE}),
}
ALL_ACTIONS = frozenset(Action)
NO_ACTIONS: frozenset[Action] = frozenset()

# Refusals a person reads; one message per action so that the page, the API and the CLI
# say the same thing. gettext_noop marks them for the catalogue; _() translates at use.
_REFUSALS = {
    A.VIEW: gettext_noop("Your role may not view residents' records."),
    A.IMPORT_CENSUS: gettext_noop("Your role may not import census sheets."),
    A.EXPORT_CENSUS: gettext_noop("Your role may not export census sheets."),
    A.TRANSFER: gettext_noop("Your role may not transfer residents."),
    A.MANAGE_ACCOUNTS: gettext_noop("Your role may not manage accounts."),
    A.SEE_FULL_ID: gettext_noop("Your role may not see full ID numbers."),
    A.SEE_FULL_PHONE: gettext_noop("Your role may not see full phone numbers."),
    A.SEE_BIRTH_DATE: gettext_noop("Your role may not see birth dates."),
    A.SEE_HEALTH_NOTES: gettext_noop("Your role may not read health notes."),
    A.READ_AUDIT: gettext_noop("Your role may not read the audit trail."),
    A.RECORD_VISIT: gettext_noop("Your role may not record visits."),
    A.CREATE_REQUEST: gettext_noop("Your role may not register requests."),
    A.DISPATCH_REQUEST: gettext_noop("Your role may not dispatch or cancel requests."),
    A.CLOSE_REQUEST: gettext_noop("Your role may not close requests."),
    A.WORK_REQUEST: gettext_noop("Your role may not take requests."),
    A.MANAGE_MOBILISATION: gettext_noop("Your role may not manage units, cadres and branches."),
    A.MANAGE_DUTY: gettext_noop("Your role may not manage posts, shifts and roles."),
    A.CONFIRM_REPORT: gettext_noop("Your role may not confirm party member reports."),
    A.MANAGE_ZONES: gettext_noop("Your role may not set or lift risk zones."),
    A.MANAGE_TESTING: gettext_noop("Your role may not manage testing rounds or enter results."),
    A.RECORD_SAMPLE: gettext_noop("Your role may not record samples."),
    A.MANAGE_ISOLATION: gettext_noop("Your role may not manage home isolation or care services."),
    A.RECORD_HEALTH_VISIT: gettext_noop("Your role may not record health visits."),
    A.MANAGE_TRANSFERS: gettext_noop("Your role may not manage isolation points or transfers."),
    A.INSPECT: gettext_noop("Your role may not run inspections or verify rectifications."),
    A.RECTIFY: gettext_noop("Your role may not acknowledge or report rectifications."),
}


def refusal(action: Action) -> str:
    return _(_REFUSALS[action])


def roles_with(action: Action) -> list[str]:
    """The roles whose table row has `action`, in the table's order."""
    return [role for role, actions in ROLE_ACTIONS.items() if action in actions]


class Policy:
    """What one account may see and do. Get it with `policy_for(user)`."""

    def __init__(self, user: User | None) -> None:
        self.user = user

    # --- who ------------------------------------------------------------------------

    @cached_property
    def active(self) -> bool:
        user = self.user
        return bool(user is not None and user.is_authenticated and user.is_active)

    @cached_property
    def is_system(self) -> bool:
        """A superuser: the deployment's operator, unconfined and unmasked."""
        return self.active and bool(self.user.is_superuser)  # type: ignore[union-attr]

    @cached_property
    def actions(self) -> frozenset[Action]:
        if not self.active:
            return NO_ACTIONS
        if self.is_system:
            return ALL_ACTIONS
        if self.jurisdiction is None:
            return NO_ACTIONS
        return ROLE_ACTIONS.get(self.user.role, NO_ACTIONS)  # type: ignore[union-attr]

    # --- where ----------------------------------------------------------------------

    @cached_property
    def jurisdiction(self) -> Region | None:
        """The region the account sees; a superuser without one sees the whole city."""
        from frontline.territory.services import city

        if not self.active:
            return None
        user = self.user
        if user.region_id:  # type: ignore[union-attr]
            return user.region  # type: ignore[union-attr]
        if user.is_superuser:  # type: ignore[union-attr]
            return city()
        return None

    def rows(self, queryset: QuerySet) -> QuerySet:
        """The rows of a located queryset inside the jurisdiction; none without one."""
        region = self.jurisdiction
        if region is None:
            return queryset.none()
        return queryset.within(region)  # type: ignore[attr-defined]

    def contains(self, target: Any) -> bool:
        """Whether a region, or a located row (household, resident, grid), is inside."""
        from frontline.territory.models import Level, Region

        home = self.jurisdiction
        if home is None or target is None:
            return False
        if home.level == Level.CITY:
            return True
        if isinstance(target, Region):
            return target.is_within(home)
        from frontline.territory.models import LEVEL_FIELDS

        return getattr(target, f"{LEVEL_FIELDS[home.level]}_id", None) == home.pk

    def contains_path(self, path: str) -> bool:
        """Whether a region path ("裕安区/城南镇/...") lies inside, whether or not the
        region exists yet (a census row may create it). Whole names only: 城南 does not
        contain 城南镇."""
        home = self.jurisdiction
        if home is None:
            return False
        from frontline.territory.models import Level

        if home.level == Level.CITY:
            return True
        return f"{path.strip('/')}/".startswith(f"{home.path}/")

    def region_by_path(self, path: str) -> Region:
        """The region at `path` if it is inside; else NotFound, worded like a bad path.

        Outside and nonexistent read the same, so that paths cannot be probed.
        """
        from frontline.territory.services import region_by_path

        try:
            region = region_by_path(path)
        except NotFound:
            region = None
        if region is None or not self.contains(region):
            raise NotFound(_("No region at path “%(path)s”.") % {"path": path})
        return region

    # --- what -----------------------------------------------------------------------

    def can(self, action: Action, target: Any = None) -> bool:
        """Whether the role allows `action`, and `target` (if any) is inside."""
        if action not in self.actions:
            return False
        return target is None or self.contains(target)

    def require(self, action: Action, target: Any = None) -> None:
        """Raise PermissionDenied when the role refuses, NotFound when `target` is outside.

        The order matters: a role that may not export learns nothing about a region by
        being refused, and one that may learns nothing about a region outside.
        """
        if action not in self.actions:
            raise PermissionDenied(refusal(action), hint=self.who_may(action))
        if target is not None and not self.contains(target):
            raise NotFound(_("Not found."))

    def who_may(self, action: Action) -> str:
        """Which roles the action needs, and the account's own, in the reader's language:
        a refused volunteer learns whom to ask, not only that the answer is no."""
        needed = pgettext("list separator", ", ").join(
            str(Role(role).label) for role in roles_with(action)
        )
        own = self.user.role if self.active else ""  # type: ignore[union-attr]
        if own in Role.values:
            return _("This needs the role of %(roles)s; your role is %(own)s.") % {
                "roles": needed,
                "own": Role(own).label,
            }
        return _("This needs the role of %(roles)s.") % {"roles": needed}

    # --- how each personal field is shown ---------------------------------------------

    def id_number(self, value: str) -> str:
        if not value:
            return ""
        return value if A.SEE_FULL_ID in self.actions else mask_id_number(value)

    def phone(self, value: str) -> str:
        if not value:
            return ""
        return value if A.SEE_FULL_PHONE in self.actions else mask_phone(value)

    def dial(self, value: str) -> str:
        """The number a call button may carry: only a phone the viewer sees in full.

        A masked phone must not hide the full number in a `tel:` link, so for roles that
        see phones masked there is nothing to dial.
        """
        return value if value and A.SEE_FULL_PHONE in self.actions else ""

    def staff_phone(self, value: str) -> str:
        """A grid member's phone (网格长, 网格员): a work number, not a resident's.

        Published to the people the grid serves: every role that may VIEW, volunteers and
        cadres included, sees and dials it in full, so that a volunteer can reach the chief.
        """
        if not value:
            return ""
        return value if A.VIEW in self.actions else mask_phone(value)

    def birth_date(self, resident: Any) -> dt.date | None:
        return resident.birth_date if A.SEE_BIRTH_DATE in self.actions else None

    def health_notes(self, resident: Any) -> str | None:
        """The free-text notes, for roles that may read them, on a resident inside."""
        if A.SEE_HEALTH_NOTES in self.actions and self.contains(resident):
            return resident.health_notes
        return None

    def visit_text(self, visit: Any) -> tuple[str, str] | None:
        """A door visit's note and needs noticed: free text about people, so read like
        health notes, and by the person who wrote them."""
        if self.sees_health_notes and self.contains(visit):
            return visit.note, visit.needs
        if self.active and visit.visitor_id is not None and visit.visitor_id == self.user.pk:  # type: ignore[union-attr]
            return visit.note, visit.needs
        return None

    # Booleans for templates, which cannot call with arguments.

    @property
    def sees_full_id(self) -> bool:
        return A.SEE_FULL_ID in self.actions

    @property
    def sees_full_phone(self) -> bool:
        return A.SEE_FULL_PHONE in self.actions

    @property
    def sees_birth_date(self) -> bool:
        return A.SEE_BIRTH_DATE in self.actions

    @property
    def sees_health_notes(self) -> bool:
        return A.SEE_HEALTH_NOTES in self.actions

    @property
    def may_import(self) -> bool:
        return A.IMPORT_CENSUS in self.actions

    @property
    def may_export(self) -> bool:
        return A.EXPORT_CENSUS in self.actions

    @property
    def may_transfer(self) -> bool:
        return A.TRANSFER in self.actions

    @property
    def may_manage_accounts(self) -> bool:
        return A.MANAGE_ACCOUNTS in self.actions

    @property
    def sees_staff_phones(self) -> bool:
        """Grid members' phones in full (see staff_phone)."""
        return A.VIEW in self.actions

    @property
    def may_record_visit(self) -> bool:
        return A.RECORD_VISIT in self.actions

    @property
    def may_read_audit(self) -> bool:
        return A.READ_AUDIT in self.actions

    # --- requests (诉求) ------------------------------------------------------------

    def can_step_request(self, request: Any) -> bool:
        """Deliver, report or hand back a request: its assignee, or a dispatcher, inside."""
        if not self.contains(request):
            return False
        if A.DISPATCH_REQUEST in self.actions:
            return True
        user = self.user
        return (
            A.WORK_REQUEST in self.actions
            and user is not None
            and request.assignee_id is not None
            and request.assignee_id == user.pk
        )

    def require_step_request(self, request: Any) -> None:
        if not self.contains(request):
            raise NotFound(_("Not found."))
        if not self.can_step_request(request):
            raise PermissionDenied(_("Only the request's assignee or a dispatcher may do this."))

    def may_take_request(self, request: Any) -> bool:
        """Whether this account may be made the request's assignee: a role that takes
        requests, and a jurisdiction that holds the request's place."""
        return self.can(A.WORK_REQUEST, request)

    def request_phone(self, request: Any, value: str) -> str:
        """A resident's phone on a request: in full to its assignee while it is open (they
        must call to deliver), otherwise as `phone` shows it."""
        user = self.user
        if (
            value
            and user is not None
            and request.assignee_id == user.pk
            and request.is_open
            and self.contains(request)
        ):
            return value
        return self.phone(value)

    @property
    def may_create_request(self) -> bool:
        return A.CREATE_REQUEST in self.actions

    @property
    def may_dispatch_request(self) -> bool:
        return A.DISPATCH_REQUEST in self.actions

    @property
    def may_close_request(self) -> bool:
        return A.CLOSE_REQUEST in self.actions

    @property
    def may_manage_duty(self) -> bool:
        return A.MANAGE_DUTY in self.actions

    @property
    def may_manage_mobilisation(self) -> bool:
        return A.MANAGE_MOBILISATION in self.actions

    @property
    def may_confirm_reports(self) -> bool:
        return A.CONFIRM_REPORT in self.actions

    # Health operations.
    @property
    def may_manage_zones(self) -> bool:
        return A.MANAGE_ZONES in self.actions

    @property
    def may_manage_testing(self) -> bool:
        return A.MANAGE_TESTING in self.actions

    @property
    def may_record_sample(self) -> bool:
        return A.RECORD_SAMPLE in self.actions

    @property
    def may_manage_isolation(self) -> bool:
        return A.MANAGE_ISOLATION in self.actions

    @property
    def may_manage_transfers(self) -> bool:
        return A.MANAGE_TRANSFERS in self.actions

    def keeps(self, case: Any) -> bool:
        """Whether this account keeps the case or service (一人包一) itself."""
        return self.user is not None and getattr(case, "keeper_id", None) == self.user.pk

    def can_record_health_visit(self, case: Any) -> bool:
        """A visit to an isolated resident (or a care trip): inside, by the person who keeps
        it, or by someone who manages isolation there."""
        if A.RECORD_HEALTH_VISIT not in self.actions or not self.contains(case):
            return False
        return self.keeps(case) or A.MANAGE_ISOLATION in self.actions

    def require_health_visit(self, case: Any) -> None:
        if not self.contains(case):
            raise NotFound(_("Not found."))
        if not self.can_record_health_visit(case):
            raise PermissionDenied(refusal(A.RECORD_HEALTH_VISIT))

    def sees_case_health(self, case: Any) -> bool:
        """Temperatures and symptoms are health data: those who read health notes, and the
        keeper of the case."""
        return self.contains(case) and (A.SEE_HEALTH_NOTES in self.actions or self.keeps(case))

    # --- isolation points and transfers (health, h-transfers) ----------------------------
    # Points are usually run by the district (or a township) and serve every place under
    # it: a township's staff send close contacts to the district's hotel. So a point, or a
    # transfer team, is reachable from inside the jurisdiction and from the regions above
    # it; reaching is not managing (editing a point needs it inside).

    def reaches(self, target: Any) -> bool:
        """Whether a point or team (anything with a `region`), or a region, is inside the
        jurisdiction or at one of the regions above it."""
        from frontline.territory.models import LEVEL_FIELDS, Level, Region

        home = self.jurisdiction
        if home is None or target is None:
            return False
        region = target if isinstance(target, Region) else getattr(target, "region", None)
        if region is None:
            return False
        if self.contains(region):
            return True
        if region.level == Level.CITY:
            return True
        if region.level >= home.level:
            return False
        return getattr(home, f"{LEVEL_FIELDS[region.level]}_id", None) == region.pk

    def reachable_rows(self, queryset: QuerySet) -> QuerySet:
        """The rows of a queryset of points or teams this account reaches (see `reaches`):
        one filter, inside or at an ancestor of the jurisdiction."""
        from django.db.models import Q

        from frontline.territory.models import LEVEL_FIELDS, Level

        home = self.jurisdiction
        if home is None:
            return queryset.none()
        if home.level == Level.CITY:
            return queryset.all()
        above = [
            getattr(home, f"{name}_id")
            for level, name in LEVEL_FIELDS.items()
            if level < home.level and getattr(home, f"{name}_id")
        ]
        return queryset.filter(
            Q(**{f"{LEVEL_FIELDS[home.level]}_id": home.pk})
            | Q(region_id__in=above)
            | Q(region__level=Level.CITY)
        )

    @property
    def sees_transfers(self) -> bool:
        """Who was moved to an isolation point, and who is in one, is health data: those
        who run transfers and those who read health notes."""
        return A.MANAGE_TRANSFERS in self.actions or A.SEE_HEALTH_NOTES in self.actions

    def can_record_disinfection(self, point: Any) -> bool:
        """A disinfection (消杀) of a point: who manages it, or a member of its staff."""
        if self.can(A.MANAGE_TRANSFERS, point.region):
            return True
        if not (self.active and self.reaches(point)):
            return False
        return point.staff.filter(pk=self.user.pk).exists()  # type: ignore[union-attr]

    def can_end_stay(self, stay: Any) -> bool:
        """Release a person from a point: who manages transfers where they live, or where
        the point is."""
        if A.MANAGE_TRANSFERS not in self.actions:
            return False
        return self.contains(stay) or self.contains(stay.point.region)

    # --- health: risk zones and the health hub (h-zones) -------------------------------

    @property
    def may_view_health(self) -> bool:
        """The health hub and the zones pages: whoever may view the records of a place."""
        return A.VIEW in self.actions

    # --- supervision (督查) ---------------------------------------------------------

    @property
    def may_view_supervision(self) -> bool:
        """The inspection pages: whoever inspects or rectifies."""
        return A.INSPECT in self.actions or A.RECTIFY in self.actions

    @property
    def may_inspect(self) -> bool:
        return A.INSPECT in self.actions


def policy_for(user: Any) -> Policy:
    """The policy of `user`, built once per user object (one request, one command run)."""
    if user is None:
        return Policy(None)
    policy = getattr(user, "_frontline_policy", None)
    if policy is None or policy.user is not user:
        policy = Policy(user)
        # AnonymousUser and the like may refuse attributes: then it is rebuilt each time.
        with contextlib.suppress(AttributeError):
            user._frontline_policy = policy
    return policy


def forget_policy(user: Any) -> None:
    """After a role or jurisdiction change on this very object (tests, the admin)."""
    if hasattr(user, "_frontline_policy"):
        del user._frontline_policy


def policy_context(request) -> dict[str, Policy]:
    """Template context processor: `{% if policy.may_export %}`."""
    return {"policy": policy_for(getattr(request, "user", None))}

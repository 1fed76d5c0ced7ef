"""Party member reporting (我是党员我报到): from a branch's QR code, without an account.

The QR code carries a link signed with the site's secret (django.core.signing) that names
the branch: it cannot be forged for another branch, and it stops working when the branch
closes. Submissions are limited per address and minute. A person is known by the ID
number (checked against GB 11643): reporting twice to the same branch is one report, the
second updating the contact details while the branch has not decided yet.

The branch (an account whose role may CONFIRM_REPORT, over the branch's place) confirms
or rejects. A confirmed person gets a volunteer account at the branch's place, with a
one-time password shown to the confirmer to hand over, and so can take roles and shifts.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from frontline.accounts.policy import Action, policy_for
from frontline.audit.models import AuditAction
from frontline.audit.services import audit_record
from frontline.core.errors import DomainError, NotFound
from frontline.core.ratelimit import RateLimited, rate_limit
from frontline.territory.models import Level

from .models import Branch, BranchMember, MemberKind, Report
from .services import check_id_number

SALT = "frontline.duty.report"
# Per address and minute: a household behind one router reports a few people, a script
# trying ID numbers is stopped.
REPORTS_PER_MINUTE = 10
REPORT_KINDS = (
    MemberKind.PARTY_MEMBER,
    MemberKind.YOUTH_LEAGUE,
    MemberKind.ENTERPRISE,
    MemberKind.VOLUNTEER,
)
_MOBILE_LENGTH = 11


def report_token(branch: Branch) -> str:
    """The same token every time for a branch (no timestamp): a QR code printed twice is
    the same code, and a printed code keeps working until the branch closes."""
    return signing.Signer(salt=SALT).sign_object(branch.pk)


def branch_for_token(token: str) -> Branch:
    """The branch a QR link names; a forged, altered or closed one reads as not found."""
    try:
        pk = signing.Signer(salt=SALT).unsign_object(token)
    except signing.BadSignature:
        raise NotFound(_("This reporting link is not valid.")) from None
    branch = Branch.objects.select_related("region").filter(pk=pk).first()
    if branch is None or (branch.end is not None and branch.end < timezone.localdate()):
        raise NotFound(_("This reporting link is not valid."))
    return branch


def report_submit(
    *,
    branch: Branch,
    kind: str,
    name: str,
    id_number: str,
    phone: str,
    skills: str = "",
    ip: str | None = None,
) -> Report:
    try:
        rate_limit(scope="party-report", key=ip or "-", limit=REPORTS_PER_MINUTE)
    except RateLimited as exc:
        raise RateLimited(
            _("Too many reports from here: try again in %(seconds)d seconds.")
            % {"seconds": exc.retry_after},
            retry_after=exc.retry_after,
        ) from None
    if kind not in REPORT_KINDS:
        raise DomainError(_("Choose who you are."))
    name = (name or "").strip()
    if not name or len(name) > 32:
        raise DomainError(_("Write your name (at most 32 characters)."))
    number = check_id_number(id_number or "")
    phone = (phone or "").strip().replace(" ", "")
    if len(phone) != _MOBILE_LENGTH or not phone.isdigit() or phone[0] != "1":
        raise DomainError(_("Write an 11-digit mobile number."))
    skills = (skills or "").strip()[:200]
    now = timezone.now()
    fields = {"kind": kind, "name": name, "phone": phone, "skills": skills}
    try:
        with transaction.atomic():
            report = Report.objects.filter(branch=branch, id_number=number).first()
            if report is None:
                report = Report(branch=branch, id_number=number, reported_at=now, **fields)
                for level in ("district", "township", "community", "compound", "building"):
                    setattr(report, f"{level}_id", getattr(branch, f"{level}_id"))
                report.save()
                return report
    except IntegrityError:
        # The same person twice at the same moment (a double tap): the first one stands.
        report = Report.objects.get(branch=branch, id_number=number)
    # Reported before: one report. Details are updated only while nobody has decided.
    Report.objects.filter(pk=report.pk, state=Report.State.PENDING).update(**fields)
    report.refresh_from_db()
    return report


def reports_for(user: Any, state: str | None = None):
    reports = Report.objects.visible_to(user).select_related("branch", "user")
    if state:
        reports = reports.filter(state=state)
    return reports.order_by("-reported_at", "-id")


def _decide(report: Report, actor: Any, state: str) -> bool:
    policy_for(actor).require(Action.CONFIRM_REPORT, report)
    now = timezone.now()
    changed = Report.objects.filter(pk=report.pk, state=Report.State.PENDING).update(
        state=state, decided_at=now, decided_by=actor
    )
    if not changed:
        raise DomainError(_("This report has been decided already."))
    return True


def _username_for(report: Report) -> str:
    from frontline.accounts.models import User

    if not User.objects.filter(username=report.phone).exists():
        return report.phone
    return f"{report.phone}-{report.pk}"


def report_confirm(*, report: Report, actor: Any, ip: str | None = None) -> tuple[Report, str]:
    """Confirm: the person joins the branch and gets a volunteer account at its place.

    Returns the report and the account's one-time password, shown once to the confirmer.
    """
    from frontline.accounts.services import user_create

    with transaction.atomic():
        _decide(report, actor, Report.State.CONFIRMED)
        branch = report.branch
        place = branch.region
        if place.level > Level.COMPOUND and place.parent is not None:
            place = place.parent
        password = secrets.token_urlsafe(9)
        user = user_create(
            username=_username_for(report),
            role="volunteer",
            region=place,
            password=password,
            full_name=report.name,
            phone=report.phone,
            actor=actor,
            ip=ip,
        )
        Report.objects.filter(pk=report.pk).update(user=user)
        member = BranchMember(
            branch=branch,
            kind=report.kind,
            name=report.name,
            phone=report.phone,
            user=user,
            joined=timezone.localdate(),
        )
        for level in ("district", "township", "community", "compound", "building"):
            setattr(member, f"{level}_id", getattr(branch, f"{level}_id"))
        member.save()
        audit_record(
            actor=actor,
            action=AuditAction.REPORT_DECISION,
            object_type="party_report",
            object_id=report.pk,
            region=branch.region,
            detail={"decision": "confirmed", "branch": branch.name, "account": user.username},
            ip=ip,
        )
    report.refresh_from_db()
    return report, password


def report_reject(*, report: Report, actor: Any, ip: str | None = None) -> Report:
    with transaction.atomic():
        _decide(report, actor, Report.State.REJECTED)
        audit_record(
            actor=actor,
            action=AuditAction.REPORT_DECISION,
            object_type="party_report",
            object_id=report.pk,
            region=report.branch.region,
            detail={"decision": "rejected", "branch": report.branch.name},
            ip=ip,
        )
    report.refresh_from_db()
    return report


def qr_svg(url: str) -> str:
    """The QR code of `url` as an inline SVG document (segno: pure Python, no network)."""
    import segno

    return segno.make(url, error="m").svg_inline(scale=6, border=2)

"""`frontline audit [--since DATE] [--actor U] [--action A] [--json]`: read the trail."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from frontline.accounts.acting import acting_user
from frontline.accounts.policy import Action, policy_for
from frontline.audit.models import AuditAction, AuditEvent
from frontline.audit.queries import event_as_dict, filter_events, readable_events
from frontline.core.errors import DomainError


class Command(BaseCommand):
    help = _("Print the audit trail, newest first.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--since", default="", help=_("a date (2026-11-29) or an ISO date and time")
        )
        parser.add_argument("--actor", default="", help=_("only this account (username)"))
        parser.add_argument(
            "--action",
            default="",
            help=_("only this action, one of: %(actions)s")
            % {"actions": ", ".join(AuditAction.values)},
        )
        parser.add_argument(
            "--as",
            dest="as_user",
            default="",
            metavar="USERNAME",
            help=_("read as this account, with its rights; without it, as the operator"),
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help=_("print one JSON object per line, with the keys of the API"),
        )

    def handle(self, *args, since, actor, action, as_user, json: bool, **options):
        # Reading is not audited (see queries.py).
        try:
            events = filter_events(self._readable(as_user), actor=actor, since=since, action=action)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        events = events.iterator(chunk_size=2000)
        if json:
            for event in events:
                self.stdout.write(_dumps(event_as_dict(event)))
            return
        self._table(events)

    def _readable(self, username: str):
        if not username:
            # Without --as the command is the deployment's operator, like every command
            # run without an account: the whole trail.
            return AuditEvent.objects.all()
        try:
            user = acting_user(username)
        except DomainError:
            raise CommandError(
                _("No active account “%(username)s”.") % {"username": username}
            ) from None
        policy_for(user).require(Action.READ_AUDIT)
        return readable_events(user)

    def _table(self, events) -> None:
        headers = [_("at"), _("account"), _("action"), _("object"), _("region"), _("detail")]
        self.stdout.write(_row(headers))
        count = 0
        for event in events:
            row = event_as_dict(event)
            target = f"{row['object_type']}#{row['object_id']}" if row["object_type"] else "-"
            detail = _dumps(row["detail"]) if row["detail"] else "-"
            cells = [
                row["at"][:19].replace("T", " "),
                row["actor"] or _("system"),
                row["action"],
                target,
                row["region"] or "-",
                detail,
            ]
            self.stdout.write(_row(cells))
            count += 1
        if not count:
            self.stdout.write(_("No events match."))


# Column widths of the table (the region and the detail run to the end of the line).
_WIDTHS = (19, 16, 16, 20)


def _row(cells: list[str]) -> str:
    padded = [
        cell + " " * max(0, _WIDTHS[i] - _width(cell)) if i < len(_WIDTHS) else cell
        for i, cell in enumerate(cells)
    ]
    return "  ".join(padded).rstrip()


def _width(text: str) -> int:
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

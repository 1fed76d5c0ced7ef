"""`frontline transfer ID_NUMBER --to PATH --unit U --room R --reason TEXT [--as USERNAME]`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from frontline.accounts.acting import acting_user
from frontline.accounts.policy import Action, policy_for
from frontline.core.errors import DomainError, NotFound
from frontline.people.models import Household, Resident
from frontline.people.services import resident_transfer
from frontline.territory.models import Level
from frontline.territory.services import region_by_path


class Command(BaseCommand):
    # A property, not gettext_lazy: argparse's help formatter needs a real str.
    @property
    def help(self) -> str:  # type: ignore[override]
        return _(
            "Transfer a resident (by ID number) into another household that is already recorded."
        )

    def add_arguments(self, parser):
        parser.add_argument("id_number", metavar="ID_NUMBER")
        parser.add_argument(
            "--to",
            dest="building",
            required=True,
            help=_("the building's path, e.g. 裕安区/城南镇/陡步河社区/安康小区/1栋"),
        )
        parser.add_argument("--unit", default="", help=_("the unit entrance (may be empty)"))
        parser.add_argument("--room", required=True, help=_("the room"))
        parser.add_argument("--reason", required=True, help=_("why; kept in the audit trail"))
        parser.add_argument(
            "--as",
            dest="username",
            default=None,
            help=_(
                "act as this account: its jurisdiction and rights, audited as that person "
                "(default: the system)"
            ),
        )

    def handle(self, *args, id_number, building, unit, room, reason, username, **options):
        try:
            actor = acting_user(username) if username is not None else None
            resident, household = self._find(actor, id_number.strip().upper(), building, unit, room)
            resident = resident_transfer(
                resident=resident, household=household, actor=actor, reason=reason
            )
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            _("%(name)s now lives at %(address)s.")
            % {"name": resident.name, "address": household.address}
        )

    @staticmethod
    def _find(actor, id_number: str, path: str, unit: str, room: str):
        residents = Resident.objects.all()
        households = Household.objects.select_related("building")
        if actor is None:
            building = region_by_path(path)
        else:
            policy = policy_for(actor)
            # The role first: a refused role learns nothing about who is registered where.
            policy.require(Action.TRANSFER)
            residents = residents.visible_to(actor)
            households = households.visible_to(actor)
            building = policy.region_by_path(path)
        resident = residents.filter(id_number=id_number).first()
        if resident is None:
            raise NotFound(_("No resident with this ID number in your jurisdiction."))
        if building.level != Level.BUILDING:
            raise DomainError(
                _("“%(path)s” is not a building; give the path down to the building.")
                % {"path": path}
            )
        household = households.filter(
            building=building, unit=unit.strip(), room=room.strip()
        ).first()
        if household is None:
            raise NotFound(
                _(
                    "There is no household at %(path)s, unit “%(unit)s”, room “%(room)s”. "
                    "A transfer moves a resident into a household that is already recorded."
                )
                % {"path": building.path, "unit": unit.strip(), "room": room.strip()}
            )
        return resident, household

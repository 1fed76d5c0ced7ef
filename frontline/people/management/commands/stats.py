"""`frontline stats [--region PATH] [--json]`: the census figures of a region."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from frontline.core.errors import DomainError
from frontline.duty.stats import mobilisation_labels, mobilisation_stats
from frontline.health.stats import health_labels, health_stats
from frontline.people.models import Visit
from frontline.people.stats import census_stats
from frontline.requests.models import Status as RequestStatus
from frontline.requests.stats import request_stats
from frontline.supervision.stats import supervision_labels, supervision_stats
from frontline.territory.services import region_by_path


class Command(BaseCommand):
    help = _("Census figures of a region (the whole city by default).")

    def add_arguments(self, parser):
        parser.add_argument(
            "--region",
            default="",
            help=_("a region path, e.g. 金安区/鼓楼街道; the city if omitted"),
        )
        parser.add_argument(
            "--json", action="store_true", help=_("print the figures as one JSON object")
        )

    def handle(self, *args, region: str, json: bool, **options):
        try:
            place = region_by_path(region)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        stats = {
            **census_stats(place),
            "requests": request_stats(place),
            "mobilisation": mobilisation_stats(place),
            "health": health_stats(place),
            "supervision": supervision_stats(place),
        }
        if json:
            self.stdout.write(_dumps(stats))
            return
        labels = [
            (_("Households"), stats["households"]),
            (_("Residents"), stats["residents"]),
            (_("Compounds"), stats["compounds"]),
            (_("Buildings"), stats["buildings"]),
            (_("Party members"), stats["party_members"]),
            (_("Residents away"), stats["away"]),
            (_("Households where nobody orders online"), stats["cannot_order_online"]),
        ]
        labels += list(stats["care_groups"].items())
        labels.append((_("Households visited today"), stats["visits_today"]))
        outcomes = dict(Visit.Outcome.choices)
        labels += [
            (_("Visits today: %(outcome)s") % {"outcome": outcomes[code]}, n)
            for code, n in stats["visits"].items()
        ]
        figures = stats["requests"]
        steps = dict(RequestStatus.choices)
        labels += [
            (_("Open requests: %(step)s") % {"step": steps[code]}, n)
            for code, n in figures["open"].items()
        ]
        labels += [
            (_("Overdue requests"), figures["overdue"]),
            (_("Requests closed today"), figures["closed_today"]),
            (_("Median minutes from received to closed"), figures["median_minutes_to_close"]),
            (_("Mean satisfaction"), figures["mean_satisfaction"]),
        ]
        labels += mobilisation_labels(stats["mobilisation"])
        labels += health_labels(stats["health"])
        labels += supervision_labels(stats["supervision"])
        width = max(_width(str(label)) for label, _n in labels)
        self.stdout.write(place.display_path)
        for label, n in labels:
            shown = "—" if n is None else f"{n:,}"
            self.stdout.write(f"  {label}{' ' * (width - _width(str(label)))}  {shown:>9}")


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def _width(text: str) -> int:
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)

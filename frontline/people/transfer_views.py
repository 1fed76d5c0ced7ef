"""Transferring a resident to another household: the page.

The target is typed as people say it: the building's path, the unit entrance and the
room of a household that exists. Everything is decided by the policy and by
`services.resident_transfer`; this module parses and renders.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from frontline.accounts.policy import Action, policy_for
from frontline.audit.services import client_ip
from frontline.core.access import access_by_id
from frontline.core.errors import DomainError
from frontline.core.errors import NotFound as DomainNotFound
from frontline.core.errors import PermissionDenied as DomainPermissionDenied
from frontline.territory.models import Level

from .models import Household, Resident
from .services import REASON_MAX_LENGTH, resident_transfer


class TransferForm(forms.Form):
    building = forms.CharField(
        label=gettext_lazy("Building (path)"),
        max_length=400,
        help_text=gettext_lazy("e.g. 裕安区/城南镇/陡步河社区/安康小区/1栋"),
    )
    unit = forms.CharField(label=gettext_lazy("Unit entrance"), max_length=16, required=False)
    room = forms.CharField(label=gettext_lazy("Room"), max_length=16)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=REASON_MAX_LENGTH)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        policy = policy_for(self.user)
        path = data["building"].strip()
        try:
            building = policy.region_by_path(path)
        except DomainNotFound as exc:
            raise forms.ValidationError(str(exc)) from None
        if building.level != Level.BUILDING:
            raise forms.ValidationError(
                _("“%(path)s” is not a building; give the path down to the building.")
                % {"path": path}
            )
        household = (
            Household.objects.visible_to(self.user)
            .filter(building=building, unit=data["unit"].strip(), room=data["room"].strip())
            .first()
        )
        if household is None:
            raise forms.ValidationError(
                _(
                    "There is no household at %(path)s, unit “%(unit)s”, room “%(room)s”. "
                    "A transfer moves a resident into a household that is already recorded."
                )
                % {"path": building.path, "unit": data["unit"].strip(), "room": data["room"]}
            )
        data["household"] = household
        return data


@login_required
def resident_transfer_page(request, pk: int):
    # The role first (403), then the resident (404 outside): a role that may not transfer
    # learns nothing about which ids exist.
    try:
        policy_for(request.user).require(Action.TRANSFER)
    except DomainPermissionDenied:
        raise PermissionDenied from None
    resident = access_by_id(
        Resident.objects.select_related("household__building"), request.user, pk
    )
    initial = {"building": resident.household.building.path}
    form = TransferForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            resident_transfer(
                resident=resident,
                household=form.cleaned_data["household"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
                ip=client_ip(request),
            )
        except DomainNotFound:
            raise Http404 from None
        except DomainPermissionDenied:
            raise PermissionDenied from None
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("%(name)s now lives at %(address)s.")
                % {"name": resident.name, "address": form.cleaned_data["household"].address},
            )
            return redirect("household_detail", form.cleaned_data["household"].pk)
    return render(request, "people/resident_transfer.html", {"resident": resident, "form": form})

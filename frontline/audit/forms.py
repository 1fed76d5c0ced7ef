"""The audit page's filters."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import AuditAction


class AuditFilterForm(forms.Form):
    actor = forms.CharField(
        label=_("Account"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    action = forms.ChoiceField(
        label=_("Action"),
        required=False,
        choices=[("", _("All actions")), *AuditAction.choices],
    )
    since = forms.DateField(
        label=_("Since"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

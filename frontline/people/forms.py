"""Input parsing for the people pages."""

from __future__ import annotations

import re
from pathlib import Path

from django import forms
from django.utils.translation import gettext_lazy as _

from .census import upload_too_large

CENSUS_EXTENSIONS = (".xlsx", ".xls", ".ods", ".csv")
_PHONE_TAIL = re.compile(r"^\d{4}$")
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")


class ResidentSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name, last 4 digits of phone, or ID number"),
        max_length=32,
        required=False,
        error_messages={
            "max_length": _("The query is too long: at most %(limit_value)d characters.")
        },
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "autofocus": True}),
    )


class CensusUploadForm(forms.Form):
    sheet = forms.FileField(
        label=_("Census sheet (.xlsx, .xls, .ods or .csv)"),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(CENSUS_EXTENSIONS)}),
    )

    def clean_sheet(self):
        sheet = self.cleaned_data["sheet"]
        if Path(sheet.name).suffix.lower() not in CENSUS_EXTENSIONS:
            raise forms.ValidationError(_("Upload an .xlsx, .xls, .ods or .csv file."))
        if refusal := upload_too_large(sheet.size):
            raise forms.ValidationError(refusal)
        return sheet

    @property
    def extension(self) -> str:
        return Path(self.cleaned_data["sheet"].name).suffix.lower()

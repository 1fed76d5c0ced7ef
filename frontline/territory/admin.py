"""Back office for the region tree and the grids.

Edits go through the services, so that a rename rewrites the paths below it and a move
re-stamps every fact under the subtree; the admin never writes ancestor columns itself.
A form is validated by running its change in a savepoint that is rolled back, so the rules
live in one place (the services) and their messages show on the form.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext as _

from frontline.audit.services import client_ip
from frontline.core.errors import DomainError

from . import services
from .models import Grid, GridMember, Region


class _DryRun(Exception):
    pass


def _apply_region(original: Region | None, data: dict, *, actor=None, ip=None) -> Region:
    if original is None:
        return services.region_create(parent=data["parent"], name=data["name"], kind=data["kind"])
    region = Region.objects.get(pk=original.pk)
    if data["parent"] != region.parent:
        region = services.region_move(region=region, new_parent=data["parent"], actor=actor, ip=ip)
    if data["name"] != region.name:
        region = services.region_rename(region=region, name=data["name"], actor=actor, ip=ip)
    if data["kind"] != region.kind:
        region.kind = data["kind"]
        region.save(update_fields=["kind"])
    return region


class RegionForm(forms.ModelForm):
    class Meta:
        model = Region
        fields = ("name", "kind", "parent")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if data.get("parent") is None:
            raise forms.ValidationError(_("Every region but the city has a parent."))
        try:
            with transaction.atomic():
                _apply_region(self.instance if self.instance.pk else None, data)
                raise _DryRun
        except _DryRun:
            pass
        except DomainError as exc:
            raise forms.ValidationError(str(exc)) from None
        return data


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    form = RegionForm
    list_display = ("path", "name", "level", "kind")
    list_filter = ("level",)
    search_fields = ("path",)
    readonly_fields = ("level", "path")
    raw_id_fields = ("parent",)
    ordering = ("path",)

    def save_model(self, request, obj, form, change):
        saved = _apply_region(
            form.instance if change else None,
            form.cleaned_data,
            actor=request.user,
            ip=client_ip(request),
        )
        obj.pk = saved.pk
        obj.refresh_from_db()

    def has_delete_permission(self, request, obj=None):
        # Facts hold their ancestors with PROTECT; deleting a region is never what a
        # back-office edit means (rename or move it instead).
        return False


class GridMemberInline(admin.TabularInline):
    model = GridMember
    extra = 1
    raw_id_fields = ("user",)


class GridForm(forms.ModelForm):
    class Meta:
        model = Grid
        fields = ("name", "region", "parent", "coverage", "duties")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            grid = Grid(name=data["name"], region=data["region"], parent=data.get("parent"))
            services.grid_place(grid=grid)
            services.check_grid_coverage(data["region"], data.get("coverage") or [])
        except DomainError as exc:
            raise forms.ValidationError(str(exc)) from None
        return data


@admin.register(Grid)
class GridAdmin(admin.ModelAdmin):
    form = GridForm
    list_display = ("name", "level", "region")
    list_filter = ("level",)
    search_fields = ("name", "region__path")
    raw_id_fields = ("region", "parent")
    filter_horizontal = ("coverage",)
    inlines = [GridMemberInline]

    def save_model(self, request, obj, form, change):
        services.grid_place(grid=obj)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not form.instance.coverage.exists():
            form.instance.coverage.set([form.instance.region])

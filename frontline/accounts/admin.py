"""Back office for accounts, for superusers only.

Saves go through the services: `user_create` on the add form, `user_update` on the change
form, so that the role is checked against the jurisdiction's level by the same rule as
`frontline adduser` (`check_role_region`) and every change is audited with old → new.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from frontline.audit.services import client_ip
from frontline.core.errors import DomainError

from .models import Role, User
from .policy import policy_for
from .services import check_role_region, user_create, user_update

# The fields the change form may write; each goes through `user_update`.
_CHANGEABLE = (
    "username",
    "first_name",
    "last_name",
    "email",
    "phone",
    "role",
    "region",
    "is_active",
    "is_staff",
    "is_superuser",
)


def _check_role_region(form: forms.ModelForm, *, superuser: bool) -> None:
    data = form.cleaned_data
    if "role" in form.errors or "region" in form.errors:
        return
    role = data.get("role", "")
    try:
        check_role_region(role, data.get("region"), superuser=superuser)
    except DomainError as exc:
        # The error belongs to the field to correct: the region when the role is known.
        form.add_error("region" if role in Role.values else "role", str(exc))


class FrontlineUserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "role", "region", "first_name", "phone")

    def clean(self):
        data = super().clean()
        _check_role_region(self, superuser=False)
        return data


class FrontlineUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User

    def clean(self):
        data = super().clean()
        _check_role_region(self, superuser=bool(data.get("is_superuser")))
        return data


@admin.register(User)
class FrontlineUserAdmin(UserAdmin):
    form = FrontlineUserChangeForm
    add_form = FrontlineUserCreationForm
    list_display = ("username", "first_name", "role", "region", "is_active")
    list_filter = ("role", "is_active", "is_superuser")
    raw_id_fields = ("region",)
    readonly_fields = ("last_login", "date_joined")
    # Django's groups and per-model permissions play no part in Frontline (the role and
    # the jurisdiction decide, through the policy), so the form does not offer them.
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Person"), {"fields": ("first_name", "last_name", "email", "phone")}),
        (_("Role and jurisdiction"), {"fields": ("role", "region")}),
        (_("Status"), {"fields": ("is_active", "is_superuser", "is_staff")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "usable_password", "password1", "password2"),
            },
        ),
        (_("Role and jurisdiction"), {"fields": ("role", "region")}),
        (_("Person"), {"fields": ("first_name", "phone")}),
    )

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            fields = {name: data[name] for name in form.changed_data if name in _CHANGEABLE}
            user_update(
                user=User.objects.get(pk=obj.pk),
                actor=request.user,
                ip=client_ip(request),
                **fields,
            )
        else:
            usable = data.get("set_usable_password", True)
            user = user_create(
                username=data["username"],
                role=data["role"],
                region=data["region"],
                password=data.get("password1") if usable else None,
                full_name=data.get("first_name", ""),
                phone=data.get("phone", ""),
                actor=request.user,
                ip=client_ip(request),
            )
            obj.pk = user.pk
            obj._state.adding = False
        obj.refresh_from_db()


# The admin is for superusers only: staff flags are not part of Frontline's roles, and a
# staff account would otherwise reach rows outside its jurisdiction through it.
def _superusers_only(request) -> bool:
    return policy_for(request.user).is_system


admin.site.has_permission = _superusers_only  # type: ignore[method-assign]
admin.site.site_header = admin.site.site_title = "一线 Frontline"

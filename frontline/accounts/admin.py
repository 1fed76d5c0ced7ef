from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import User


@admin.register(User)
class FrontlineUserAdmin(UserAdmin):
    list_display = ("username", "first_name", "role", "region", "is_active")
    list_filter = ("role", "is_active", "is_superuser")
    raw_id_fields = ("region",)
    fieldsets = (*UserAdmin.fieldsets, ("Frontline", {"fields": ("role", "region", "phone")}))


# The admin is for superusers only: staff flags are not part of Frontline's roles, and a
# staff account would otherwise reach rows outside its jurisdiction through it.
def _superusers_only(request) -> bool:
    return request.user.is_active and request.user.is_superuser


admin.site.has_permission = _superusers_only  # type: ignore[method-assign]
admin.site.site_header = admin.site.site_title = "一线 Frontline"

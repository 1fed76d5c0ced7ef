from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import User


@admin.register(User)
class FrontlineUserAdmin(UserAdmin):
    list_display = ("username", "first_name", "role", "region", "is_active")
    list_filter = ("role", "is_active", "is_superuser")
    raw_id_fields = ("region",)
    fieldsets = (*UserAdmin.fieldsets, ("Frontline", {"fields": ("role", "region", "phone")}))

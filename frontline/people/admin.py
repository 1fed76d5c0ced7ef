"""Back office for households and residents: looking up and correcting single records.

Bulk changes come through the census import. A household's address and a resident's
household are read-only here, because moving them means re-stamping ancestor columns and
recounting household aggregates, which the import does; edit the sheet and import it.
"""

from django.contrib import admin

from .models import Household, Resident, ResidentCareGroup


class ResidentInline(admin.TabularInline):
    model = Resident
    fields = ("name", "sex", "id_number", "birth_date", "phone", "is_party_member", "away")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ("__str__", "members", "members_away", "online_members")
    search_fields = ("building__path", "room")
    readonly_fields = ("building", "unit", "room", "members", "members_away", "online_members")
    fields = (
        "building",
        "unit",
        "room",
        "phone",
        "note",
        "members",
        "members_away",
        "online_members",
    )
    inlines = [ResidentInline]

    def has_add_permission(self, request):
        return False


class CareGroupInline(admin.TabularInline):
    model = ResidentCareGroup
    fields = ("group",)
    readonly_fields = ("group",)
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Resident)
class ResidentAdmin(admin.ModelAdmin):
    list_display = ("name", "sex", "birth_date", "household")
    search_fields = ("name", "id_number", "phone")
    list_select_related = ("household__building",)
    fields = (
        "name",
        "household",
        "id_number",
        "sex",
        "birth_date",
        "phone",
        "work_unit",
        "is_party_member",
        "can_order_online",
        "away",
        "health_notes",
        "emergency_name",
        "emergency_relation",
        "emergency_phone",
    )
    # Identity and address are the census's: ID, sex and birth date agree by construction
    # (GB 11643), and the household carries the ancestor columns.
    readonly_fields = ("household", "id_number", "sex", "birth_date", "can_order_online", "away")
    inlines = [CareGroupInline]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        obj.phone_tail = obj.phone[-4:]
        super().save_model(request, obj, form, change)

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from servicedesk.models import Location, Touchpoint, User


@admin.register(User)
class ServicedeskUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("Servicedesk", {"fields": ("location", "welcome_email_sent_at")}))
    list_display = ("username", "first_name", "last_name", "email", "location", "is_active")
    list_select_related = ("location",)


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ("name", "phone", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name",)


@admin.register(Touchpoint)
class TouchpointAdmin(admin.ModelAdmin):
    list_display = ("name", "channel", "location", "is_active")
    list_filter = ("channel", "is_active", "location")
    list_select_related = ("location",)
    search_fields = ("name",)

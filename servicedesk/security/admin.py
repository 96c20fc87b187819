from django.contrib import admin

from servicedesk.security.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is only ever added to, by the code that does the audited thing."""

    list_display = ("at", "actor_label", "action", "target_type", "target_id", "count", "outcome")
    list_filter = ("action", "outcome", "target_type")
    search_fields = ("actor_label", "target_id")
    date_hierarchy = "at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

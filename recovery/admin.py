"""Read-only admin for incidents and their timeline: changes go through the services (the audit trail)."""

from django.contrib import admin

from recovery.models import Drill, EscalationStep, FollowUp, Incident, RecoveryPlan, RecoveryStep, SlaPolicy


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class FollowUpInline(admin.TabularInline):
    model = FollowUp
    fields = ("created_at", "author", "kind", "body")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        # Each row shows its author and its title (FollowUp.__str__ names the incident): joins, not
        # queries per row of a long timeline.
        return super().get_queryset(request).select_related("author", "incident")


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ("reference", "title", "severity", "status", "assignee", "escalation_level", "created_at")
    list_filter = ("status", "severity", "category", "source")
    list_select_related = ("assignee",)
    search_fields = ("reference", "title")
    inlines = [FollowUpInline]


class EscalationStepInline(admin.TabularInline):
    model = EscalationStep
    extra = 0


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ReadOnlyAdmin):
    list_display = ("severity", "location", "respond_within", "resolve_within")
    list_select_related = ("location",)
    inlines = [EscalationStepInline]


class RecoveryStepInline(admin.TabularInline):
    model = RecoveryStep
    extra = 0


class DrillInline(admin.TabularInline):
    model = Drill
    extra = 0


@admin.register(RecoveryPlan)
class RecoveryPlanAdmin(ReadOnlyAdmin):
    list_display = ("title", "owner", "next_drill_on", "is_active")
    inlines = [RecoveryStepInline, DrillInline]

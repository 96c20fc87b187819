from django.contrib import admin
from django.utils import timezone

from design import adoption, services
from design.models import (
    Accommodation,
    GoalAcknowledgement,
    GoalChange,
    GoalMeasurement,
    GoalReviewReminder,
    PatientNeed,
    PatientNeedProfile,
    ServiceGoal,
)


class GoalChangeInline(admin.TabularInline):
    model = GoalChange
    extra = 0
    can_delete = False
    fields = ("at", "kind", "by", "version", "changes")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # the audit trail is written by design.services only


@admin.register(ServiceGoal)
class ServiceGoalAdmin(admin.ModelAdmin):
    list_display = ("title", "pillar", "metric_key", "comparator", "target", "period", "review_on", "status")
    list_filter = ("status", "pillar", "period")
    list_select_related = ("owner",)
    search_fields = ("title", "metric_key")
    raw_id_fields = ("owner",)
    # The version and status change only through design.services (version bumps, audit trail).
    readonly_fields = ("version", "status", "retired_at", "group_goal", "target_overridden")
    inlines = [GoalChangeInline]

    def get_readonly_fields(self, request, obj: ServiceGoal | None = None):
        """A site's copy of a group goal: only its owner, target and margin are the site's to change
        (the rest follows the group's goal, and the service refuses it)."""
        fields = super().get_readonly_fields(request, obj)
        if obj is None or not obj.group_goal_id:
            return fields
        return (*fields, *(n for n in services.EDITABLE_FIELDS if n not in ServiceGoal.SITE_FIELDS))

    def save_model(self, request, obj: ServiceGoal, form, change: bool) -> None:
        """Save through the services, so that the admin too bumps versions and writes the audit trail."""
        now = timezone.now()
        if change:
            fields = {n: form.cleaned_data[n] for n in form.changed_data if n in services.EDITABLE_FIELDS}
            if obj.group_goal_id:  # a site's copy: its own target, as the site's page sets it
                adoption.goal_set_site_target(goal=obj, by=request.user, now=now, fields=fields)
            else:
                services.goal_update(goal=obj, by=request.user, now=now, fields=fields)
        else:
            fields = {n: v for n, v in form.cleaned_data.items() if n in services.EDITABLE_FIELDS}
            saved = services.goal_create(by=request.user, now=now, fields=fields)
            obj.pk, obj._state.adding = saved.pk, False


class PatientNeedInline(admin.TabularInline):
    model = PatientNeed
    extra = 0


class AccommodationInline(admin.TabularInline):
    model = Accommodation
    extra = 0


@admin.register(PatientNeedProfile)
class PatientNeedProfileAdmin(admin.ModelAdmin):
    list_display = ("name", "estimated_share", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name",)
    filter_horizontal = ("preferred_touchpoints", "goals")
    inlines = [PatientNeedInline, AccommodationInline]


@admin.register(GoalAcknowledgement)
class GoalAcknowledgementAdmin(admin.ModelAdmin):
    list_display = ("goal", "user", "version", "acknowledged_at")
    list_select_related = ("goal", "user")
    search_fields = ("goal__title", "user__username")
    readonly_fields = ("goal", "user", "version", "acknowledged_at")


@admin.register(GoalMeasurement)
class GoalMeasurementAdmin(admin.ModelAdmin):
    list_display = ("goal", "measured_on", "value", "target", "status")
    list_filter = ("status",)
    list_select_related = ("goal",)
    date_hierarchy = "measured_on"


@admin.register(GoalReviewReminder)
class GoalReviewReminderAdmin(admin.ModelAdmin):
    list_display = ("goal", "review_on", "kind", "sent_at")
    list_select_related = ("goal",)

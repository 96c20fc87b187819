"""Admin: a back-office view for support. Managers use the delivery pages, not this."""

from django.contrib import admin

from delivery.models import (
    ChecklistItem,
    ChecklistResult,
    ChecklistRun,
    ChecklistTemplate,
    Protocol,
    ProtocolVersion,
)


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    extra = 0
    fields = ("order", "text", "is_critical", "note_required_on_fail", "is_active")


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(admin.ModelAdmin):
    list_display = ("title", "dimension", "frequency", "location", "touchpoint", "is_active")
    list_filter = ("dimension", "frequency", "is_active", "location")
    list_select_related = ("location", "touchpoint")
    search_fields = ("title",)
    inlines = [ChecklistItemInline]
    raw_id_fields = ("responsible_person",)
    # Adopting goes through delivery.adoption, which copies and keeps the group's items in step.
    readonly_fields = ("group_template",)


class ChecklistResultInline(admin.TabularInline):
    model = ChecklistResult
    extra = 0
    fields = ("item", "outcome", "note", "recorded_by", "recorded_at")
    readonly_fields = fields
    can_delete = False


@admin.register(ChecklistRun)
class ChecklistRunAdmin(admin.ModelAdmin):
    list_display = ("template", "period_start", "shift", "location", "assignee", "status", "due_at")
    list_filter = ("status", "template__dimension", "location")
    list_select_related = ("template", "location", "assignee")
    date_hierarchy = "period_start"
    raw_id_fields = ("template", "subject", "assignee", "completed_by")
    inlines = [ChecklistResultInline]


@admin.register(ChecklistResult)
class ChecklistResultAdmin(admin.ModelAdmin):
    list_display = ("item", "run", "outcome", "recorded_by", "recorded_at")
    list_filter = ("outcome", "item__is_critical")
    list_select_related = ("item", "run__template", "recorded_by")
    raw_id_fields = ("run", "item", "recorded_by")


class ProtocolVersionInline(admin.TabularInline):
    model = ProtocolVersion
    extra = 0
    fields = ("number", "change_note", "created_by", "created_at")
    readonly_fields = fields
    can_delete = False


@admin.register(Protocol)
class ProtocolAdmin(admin.ModelAdmin):
    list_display = ("title", "touchpoint", "owner", "review_by", "is_active")
    list_filter = ("is_active",)
    list_select_related = ("touchpoint", "owner")
    search_fields = ("title",)
    raw_id_fields = ("owner", "current_version")
    inlines = [ProtocolVersionInline]

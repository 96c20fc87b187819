"""Admin for support staff. Managers use the builder and results pages; responses are read-only here."""

from django.contrib import admin

from feedback.models import Answer, Invitation, Question, Response, Survey, Theme


class QuestionInline(admin.TabularInline):
    model = Question
    fields = ("position", "kind", "text", "required", "touchpoint", "archived_at")
    readonly_fields = ("archived_at",)
    extra = 0
    show_change_link = True


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "audience", "is_anonymous", "is_active")
    list_filter = ("audience", "is_active")
    search_fields = ("title", "slug")
    prepopulated_fields = {"slug": ("title",)}
    inlines = [QuestionInline]


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ("text", "survey", "kind", "position", "required", "archived_at")
    list_filter = ("kind", "survey")
    list_select_related = ("survey",)
    search_fields = ("text",)
    raw_id_fields = ("show_if_question",)


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ("name", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "keywords")


class AnswerInline(admin.TabularInline):
    model = Answer
    fields = ("question", "value", "choice", "choices", "text", "sentiment")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    """What a patient said is evidence: nobody edits it, not even in the admin."""

    list_display = ("survey", "submitted_at", "channel", "location", "touchpoint", "sentiment", "is_negative")
    list_filter = ("survey", "channel", "is_negative", "language")
    list_select_related = ("survey", "location", "touchpoint")
    date_hierarchy = "submitted_at"
    inlines = [AnswerInline]
    exclude = ("invitation",)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name != "invitation"] + ["themes"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("survey", "first_name", "visit_at", "status", "expires_at", "completed_at")
    list_filter = ("status", "survey", "language")
    list_select_related = ("survey",)
    date_hierarchy = "visit_at"
    readonly_fields = ("selector", "completed_at")


# --- Invitation sending (issue 6): for support staff; managers use /feedback/invitations/ --------------

from feedback.models import (  # noqa: E402 — kept with the section it belongs to
    IntegrationToken,
    InvitationImport,
    InvitationMessage,
    InvitationRules,
)


@admin.register(InvitationMessage)
class InvitationMessageAdmin(admin.ModelAdmin):
    """The send log is evidence of what was sent: read-only."""

    list_display = ("invitation", "kind", "number", "channel", "status", "attempts", "due_at", "sent_at")
    list_filter = ("status", "channel", "kind")
    list_select_related = ("invitation__survey",)
    raw_id_fields = ("invitation",)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(InvitationRules)
class InvitationRulesAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(IntegrationToken)
class IntegrationTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "hint", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("token_hash", "hint", "created_by", "revoked_by", "last_used_at")

    def has_add_permission(self, request) -> bool:
        return False  # tokens are created on the Integrations page, which shows the secret once


@admin.register(InvitationImport)
class InvitationImportAdmin(admin.ModelAdmin):
    list_display = ("filename", "survey", "status", "total_rows", "created_at")
    list_filter = ("status",)
    exclude = ("content",)

    def get_queryset(self, request):
        # The uploaded file (up to INVITATION_IMPORT_MAX_BYTES each) is never shown here.
        return super().get_queryset(request).defer("content")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name != "content"]

    def has_add_permission(self, request) -> bool:
        return False

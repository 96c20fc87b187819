"""The declared list of personal data (``servicedesk.privacy``) covers every model that could hold it.

Access and erasure requests walk that list and nothing else: a model with a field that looks
personal (by its name) must either be declared, field by field, or its field must be on the list
below of fields reviewed and found not to hold a patient's data, with the reason.
"""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.db import models

from servicedesk.privacy import MARKER, Person, Rule, personal_data, phone_forms

# Field names that suggest a person's details or words.
PERSONAL_LOOKING = re.compile(
    r"name|email|phone|mobile|comment|text|body|contact|address|detail|words|note|description|summary|"
    r"message|label|subject|\bto\b|html|data|issues|repr|reason|error|cause|content|title|username|"
    r"user_agent|path|instruction|purpose|intro|heading|thanks|keywords|external_id|clinician|"
    r"owner|provider_id|filename|counts|changes"
)

# Reviewed: these look personal by name but hold no patient's data. model label → field → why.
REVIEWED: dict[str, dict[str, str]] = {
    # A file's type, detected from its content: ours, not the person's (its name is declared).
    "attachments.Attachment": {"content_type": "what kind of file it is, detected by us"},
    # Staff and the practice itself, not patients.
    "servicedesk.User": dict.fromkeys(("username", "first_name", "last_name", "email"), "a team member"),
    "servicedesk.Location": dict.fromkeys(("name", "address", "phone"), "the practice's own sites"),
    "servicedesk.Touchpoint": dict.fromkeys(("name", "description"), "the practice's set-up"),
    "servicedesk.ClosedDay": {"reason": "why the practice is closed (a bank holiday)"},
    "security.AuditEvent": {"actor_label": "the team member's username"},
    "complaints.LetterTemplate": dict.fromkeys(("subject", "body"), "a letter's words with $placeholders"),
    "inbox.MailboxCursor": {"last_error": "why the mailbox could not be read (the error's type only)"},
    # The practice's own words: surveys, checklists, goals, protocols, plans.
    "design.ServiceGoal": dict.fromkeys(("title", "purpose", "metric_params"), "a goal the practice sets"),
    "design.PatientNeedProfile": dict.fromkeys(("name", "description"), "an archetype, not one patient"),
    "design.PatientNeed": {"description": "a need of an archetype, not one patient"},
    "design.Accommodation": {"detail": "what the practice does for an archetype"},
    "design.GoalChange": {"changes": "a goal's versions (the practice's words)"},
    "delivery.Protocol": {"title": "the practice's protocol"},
    "delivery.ProtocolVersion": dict.fromkeys(("body", "change_note"), "the practice's protocol text"),
    "delivery.ChecklistTemplate": dict.fromkeys(("title", "description"), "the practice's checklist"),
    "delivery.ChecklistItem": {"text": "the practice's check"},
    "delivery.ChecklistResult": {"note": "staff's note on a check of the premises or a process, no patient"},
    "feedback.Survey": dict.fromkeys(
        ("title", "title_es", "heading", "heading_es", "intro", "intro_es", "thanks", "thanks_es"),
        "the practice's survey",
    ),
    "feedback.Question": dict.fromkeys(
        ("text", "text_es", "help_text", "help_text_es"), "the practice's question"
    ),
    "feedback.Response": {"negative_reasons": "which rules found it negative ('fft', 'text')"},
    "feedback.Theme": dict.fromkeys(("name", "keywords"), "the practice's themes"),
    "feedback.Invitation": {"clinician": "the team member who saw the patient"},
    "feedback.IntegrationToken": dict.fromkeys(("name",), "the practice's name for its API token"),
    "feedback.InvitationImport": {"counts": "how many rows were imported, refused, skipped"},
    "feedback.Suppression": {
        "contact_hash": "a keyed hash, not the address: kept so an opt-out outlives the erasure"
    },
    "recovery.RecoveryPlan": dict.fromkeys(("title", "summary"), "the practice's continuity plan"),
    "learning.Change": {"description": "what the practice changed in how it works (a manager's words)"},
    "recovery.RecoveryStep": dict.fromkeys(("instruction", "owner"), "a step, owned by a role"),
    "recovery.Drill": {"notes": "what the team learned rehearsing a plan"},
    # Other apps' tables: staff sign-in and the framework's own records.
    "auth.Permission": dict.fromkeys(("name", "codename"), "a permission"),
    "auth.Group": {"name": "a role"},
    "contenttypes.ContentType": {"app_label": "a model's app"},
    "sessions.Session": {"session_data": "staff sign-in state; patients have no session data kept"},
    "otp_totp.TOTPDevice": dict.fromkeys(("name", "key"), "a manager's authenticator"),
    "axes.AccessAttempt": dict.fromkeys(
        ("username", "user_agent", "path_info", "get_data", "post_data"), "staff sign-in attempts"
    ),
    "axes.AccessFailureLog": dict.fromkeys(("username", "user_agent", "path_info"), "staff sign-in attempts"),
    "axes.AccessLog": dict.fromkeys(("username", "user_agent", "path_info"), "staff sign-ins"),
}

TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField, models.BinaryField)


def _personal_looking(model: type[models.Model]) -> list[str]:
    return [
        f.name
        for f in model._meta.concrete_fields
        if isinstance(f, TEXT_FIELDS) and not f.choices and PERSONAL_LOOKING.search(f.name)
    ]


def test_every_model_with_a_personal_looking_field_is_declared_or_reviewed():
    undeclared = []
    for model in apps.get_models():
        declared = {name for item in personal_data if item.model is model for name in item.fields}
        reviewed = REVIEWED.get(model._meta.label, {})
        undeclared += [
            f"{model._meta.label}.{name}"
            for name in _personal_looking(model)
            if name not in declared and name not in reviewed
        ]
    assert undeclared == [], (
        "Declare these fields with servicedesk.privacy.personal_data (how to find, export and erase "
        "them) or, if they hold no patient's data, add them to REVIEWED with the reason."
    )


def test_the_heuristic_catches_a_new_model_with_a_patients_details():
    class Callback(models.Model):
        caller_name = models.CharField(max_length=80)
        callback_phone = models.CharField(max_length=20)
        what_they_said = models.TextField()  # no personal-looking name: only a review would catch it
        status = models.CharField(max_length=10, choices=[("new", "New")])

        class Meta:
            app_label = "recovery"

        def __str__(self) -> str:
            return self.caller_name

    try:
        assert _personal_looking(Callback) == ["caller_name", "callback_phone"]
    finally:
        apps.all_models["recovery"].pop("callback", None)
        apps.clear_cache()


def test_every_reviewed_and_declared_field_exists():
    """A renamed field must not leave a stale entry that reviews or erases nothing."""
    for label, fields in REVIEWED.items():
        names = {f.name for f in apps.get_model(label)._meta.concrete_fields}
        assert set(fields) <= names, label
    for item in personal_data:
        names = {f.name for f in item.model._meta.concrete_fields}
        assert set(item.fields) <= names, item.label


def test_every_declared_table_is_in_the_access_request_on_its_own_or_inside_its_parent():
    sections = {item.name for item in personal_data if item.export is not None}
    nested = {item.label: item.within for item in personal_data if item.export is None}
    assert {label: within for label, within in nested.items() if within not in sections} == {}


@pytest.mark.parametrize(
    ("typed", "forms"),
    [
        ("+44 7700 900123", ["+447700900123", "00447700900123", "07700900123"]),
        ("07700 900-123", ["+447700900123", "00447700900123", "07700900123"]),
        ("", []),
    ],
)
def test_a_number_is_compared_in_every_form_people_type_it(typed, forms):
    assert sorted(phone_forms(typed)) == sorted(forms)


def test_scrubbing_replaces_every_mention_and_nothing_else():
    person = Person.named(email="ana.b@example.org", phone="+447700900123")
    person.learn(names=["Ana Bell", "Ana"], words=["The nurse was rude to me"])
    text = (
        "Ana Bell (ANA.B@example.org, 07700 900 123) said: the nurse was rude to me. Analysis: 077009001234."
    )
    assert person.scrub(text) == (f"{MARKER} ({MARKER}, {MARKER}) said: {MARKER}. Analysis: 077009001234.")
    assert person.scrub({"changes": ["Ana", 3]}) == {"changes": [MARKER, 3]}
    assert Rule.BLANK.value == "emptied"


def test_a_record_not_about_the_person_loses_only_what_names_them_alone():
    person = Person.named(email="ana.b@example.org")
    person.learn(names=["Ana Bell", "Ana"], words=["The nurse was rude to me"])
    label = "the team member “Ana Smith”, after ana.b@example.org wrote: the nurse was rude to me"
    assert person.mentioned_in("the team member “Ana Smith”", strict=True) is False
    assert person.scrub(label, person.pattern(strict=True)) == (
        f"the team member “Ana Smith”, after {MARKER} wrote: the nurse was rude to me"
    )

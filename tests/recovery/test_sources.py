"""Incidents that other apps report: a negative response, a failed critical check. Exactly once."""

from __future__ import annotations

import pytest
from django.utils import timezone

from delivery.signals import check_failed
from feedback.signals import response_submitted
from recovery import services
from recovery.models import Incident
from tests.concurrency import at_once
from tests.factories import (
    AnswerFactory,
    ChecklistItemFactory,
    ChecklistResultFactory,
    QuestionFactory,
    ResponseFactory,
    SurveyFactory,
    ThemeFactory,
    TouchpointFactory,
)


def negative_response(*, choice="poor", value=2, consent=False, text="", **kwargs):
    touchpoint = TouchpointFactory()
    response = ResponseFactory(
        touchpoint=touchpoint,
        location=touchpoint.location,
        is_negative=True,
        consent_to_contact=consent,
        contact_name="Ada Patient" if consent else "",
        contact_email="ada@example.org" if consent else "",
        **kwargs,
    )
    AnswerFactory(response=response, choice=choice, value=value)
    if text:
        AnswerFactory(
            response=response,
            question=QuestionFactory(survey=response.survey, kind="text"),
            choice="",
            value=None,
            text=text,
        )
    return response


@pytest.mark.django_db
def test_a_negative_response_opens_one_incident_even_when_the_signal_arrives_twice():
    response = negative_response(text="Nobody answered the phone for an hour.")
    for _ in range(2):
        response_submitted.send(sender=None, response_id=response.pk, is_negative=True)
    incident = Incident.objects.get()
    assert incident.source == Incident.Source.FEEDBACK
    assert incident.source_response == response
    assert incident.touchpoint == response.touchpoint
    assert incident.location == response.location
    assert "Nobody answered the phone" in incident.description
    assert incident.severity == "medium"
    assert incident.reference.endswith("-0001")
    # The duplicate did not burn a reference number.
    assert services.incident_open(
        description="x", category="other", severity="low", touchpoint=None, now=timezone.now()
    ).reference.endswith("-0002")


@pytest.mark.django_db
def test_a_positive_response_opens_nothing():
    response = ResponseFactory(is_negative=False)
    response_submitted.send(sender=None, response_id=response.pk, is_negative=False)
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_a_staff_pulse_never_becomes_a_patient_incident():
    response = negative_response(survey=SurveyFactory(audience="staff"))
    response_submitted.send(sender=None, response_id=response.pk, is_negative=True)
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_contact_details_are_copied_only_with_the_patients_consent():
    with_consent = negative_response(consent=True)
    without = negative_response(consent=False)
    for response in (with_consent, without):
        response_submitted.send(sender=None, response_id=response.pk, is_negative=True)
    consented = Incident.objects.get(source_response=with_consent)
    assert consented.patient_consented
    assert consented.patient_email == "ada@example.org"
    assert consented.patient_name == "Ada Patient"
    anonymous = Incident.objects.get(source_response=without)
    assert not anonymous.patient_consented
    assert anonymous.patient_email == anonymous.patient_phone == anonymous.patient_name == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("choice", "value", "sentiment", "severity"),
    [
        ("poor", 2, None, "medium"),
        ("very_poor", 1, None, "high"),
        ("poor", 2, -0.8, "high"),
        ("poor", 2, -0.3, "medium"),
    ],
)
def test_severity_follows_how_unhappy_the_patient_was(choice, value, sentiment, severity):
    response = negative_response(choice=choice, value=value, sentiment=sentiment)
    response_submitted.send(sender=None, response_id=response.pk, is_negative=True)
    assert Incident.objects.get().severity == severity


@pytest.mark.django_db
def test_the_category_comes_from_the_responses_themes():
    response = negative_response()
    response.themes.add(ThemeFactory(name="Wait time"))
    response_submitted.send(sender=None, response_id=response.pk, is_negative=True)
    assert Incident.objects.get().category == "waiting"


def test_two_deliveries_at_once_still_open_one_incident(postgres, transactional_db):
    services.sla_policies_ensure_defaults()
    response = negative_response()

    def deliver() -> None:
        response_submitted.send(sender=None, response_id=response.pk, is_negative=True)

    at_once(deliver, deliver)  # raises what either delivery raised
    assert Incident.objects.filter(source_response=response).count() == 1
    assert Incident.objects.get().reference.endswith("-0001")


@pytest.mark.django_db
def test_a_failed_critical_check_opens_one_high_incident_at_its_touchpoint():
    item = ChecklistItemFactory(text="Defibrillator pads in date", is_critical=True)
    result = ChecklistResultFactory(
        item=item, run__template=item.template, outcome="fail", note="Pads expired last week"
    )
    for _ in range(2):
        check_failed.send(sender=None, result_id=result.pk, run_id=result.run_id)
    incident = Incident.objects.get()
    assert incident.source == Incident.Source.CHECKLIST
    assert incident.source_check == result
    assert incident.severity == "high"
    assert incident.title == "Failed check: Defibrillator pads in date"
    assert "Pads expired last week" in incident.description
    assert incident.touchpoint == item.template.touchpoint
    assert incident.reporter == result.recorded_by
    assert not incident.patient_consented


@pytest.mark.django_db
def test_a_check_that_passed_after_all_opens_nothing():
    result = ChecklistResultFactory(outcome="pass")
    check_failed.send(sender=None, result_id=result.pk, run_id=result.run_id)
    assert not Incident.objects.exists()

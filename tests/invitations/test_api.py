"""The practice-management system's API: bearer tokens, idempotent visit ids, clear errors."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback import invitations
from feedback.models import Invitation, InvitationRules

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(manager):
    return invitations.integration_token_create(name="PMS", by=manager)


@pytest.fixture
def api(client, token, rules, survey, site):
    rules.default_survey = survey
    rules.save()

    def _post(body, *, raw: str | None = None, content_type: str = "application/json"):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token[1] if raw is None else raw}"}
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return client.post(reverse("api_visits"), data, content_type=content_type, **headers)

    return _post


def visit(**fields) -> dict:
    visit_at = (timezone.now() - timedelta(hours=1)).isoformat()
    return {
        "external_id": "V-1",
        "first_name": "Ana",
        "email": "ana@example.org",
        "visit_at": visit_at,
        "location": "Riverside Surgery",
    } | fields


def test_a_posted_visit_becomes_an_invitation(api, token):
    response = api(visit(mobile="07700 900123", language="es"))
    assert response.status_code == 201
    assert response.json() == {"external_id": "V-1", "status": "created"}
    invitation = Invitation.objects.get()
    assert (invitation.source, invitation.integration, invitation.language) == ("api", token[0], "es")
    assert invitation.phone == "+447700900123"


def test_posting_the_same_visit_twice_is_one_invitation(api):
    assert api(visit()).status_code == 201
    again = api(visit(email="other@example.org"))
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert Invitation.objects.count() == 1


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Bearer sdv_wrong", "Basic dXNlcjpwYXNz", "Token sdv_x"]
)
def test_a_missing_or_wrong_token_gets_401(client, rules, header):
    headers = {} if header is None else {"HTTP_AUTHORIZATION": header}
    response = client.post(
        reverse("api_visits"), json.dumps(visit()), content_type="application/json", **headers
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not Invitation.objects.exists()


def test_a_revoked_token_gets_401(api, token, manager):
    invitations.integration_token_revoke(token=token[0], by=manager, now=timezone.now())
    assert api(visit()).status_code == 401
    assert not Invitation.objects.exists()


def test_a_get_is_not_allowed(client):
    assert client.get(reverse("api_visits")).status_code == 405


def test_an_invalid_visit_gets_400_with_the_fields_at_fault(api):
    response = api(visit(email="not-an-email", visit_at="yesterday", location="Mars", colour="blue"))
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) >= {"email", "visit", "location", "colour"}
    assert not Invitation.objects.exists()


def test_a_visit_without_an_id_is_refused_because_retrying_it_would_not_be_safe(api):
    body = visit()
    del body["external_id"]
    response = api(body)
    assert response.status_code == 400
    assert "external_id" in response.json()["errors"]


def test_a_batch_reports_each_visit(api, site):
    body = {
        "visits": [
            visit(external_id="A"),
            visit(external_id="B", email="b@example.org"),
            visit(external_id="C", email="bad"),
            visit(external_id="A"),
        ]
    }
    response = api(body)
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["created", "created", "invalid", "duplicate"]


def test_a_body_that_is_not_json_gets_400(api):
    assert api("{not json").status_code == 400
    assert api([]).status_code == 400


def test_without_a_default_survey_the_visit_must_name_one(api, survey):
    InvitationRules.objects.update(default_survey=None)
    refused = api(visit())
    assert refused.status_code == 400
    assert refused.json()["errors"] == {"survey": "unknown or inactive survey"}
    assert api(visit(survey=survey.slug)).status_code == 201


def test_an_opted_out_patient_posted_again_is_not_invited(api, client):
    api(visit())
    invitation = Invitation.objects.get()
    client.post(reverse("invitation_opt_out", args=[invitation.token]))
    response = api(visit(external_id="V-2"))
    assert response.json()["status"] == "opted_out"
    assert Invitation.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested more than"),  # deeper than Python's parser recurses
        ('{"visits": ' + "[" * 30 + "]" * 30 + "}", "nested more than"),
        (json.dumps(visit(external_id="V-\x00-1")), "NUL"),
        (json.dumps(visit(survey="after-your-visit\x00")), "NUL"),
        (json.dumps({"visits": [visit(first_name="Ana\ud800")]}), "unpaired surrogate"),
        (json.dumps(visit(**{"notes\x00": "x"})), "NUL"),
    ],
    ids=["deep", "nested-visits", "nul-external-id", "nul-survey", "lone-surrogate", "nul-key"],
)
def test_a_body_no_database_can_store_is_refused_with_a_message(api, body, says):
    response = api(body)

    assert response.status_code == 400
    assert says in response.json()["error"]
    assert not Invitation.objects.exists()

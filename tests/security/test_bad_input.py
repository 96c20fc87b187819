"""Bad input at every public endpoint: never a 500, never a partial write.

Property-based (hypothesis): huge text, NUL bytes, odd Unicode, wrong types, missing and
repeated fields, forged tokens and ids, against the patient forms, the invitation and
put-it-right links, the visits API, login, password reset and the two-factor step.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedback.models import Answer, Invitation, Response
from tests.factories import InvitationFactory, QuestionFactory, SurveyFactory, UserFactory
from tests.load.harness import Page

pytestmark = pytest.mark.django_db

HUGE = "x" * 200_000
odd_text = st.one_of(
    st.text(max_size=60),  # any Unicode, NUL included
    st.text(
        alphabet=st.characters(codec="utf-8", categories=["Cc", "Cf", "Zl", "Zp", "Mn", "So"]), max_size=40
    ),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            HUGE,
            "‮evil",
            "0",
            "-1",
            "1e309",
            "NaN",
            "[]",
            "{}",
            "null",
            "9" * 40,
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "%00",
            "\ud7ff",
            "🙂" * 500,
        ]
    ),
)
values = st.one_of(odd_text, st.lists(odd_text, min_size=2, max_size=3))
forged_token = st.one_of(
    st.text(
        alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", min_size=1, max_size=120
    ),
    st.sampled_from(["..", ".", "a.b", "%2e%2e", "x" * 5000]),
)
SLOW = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _form_fields(client, url: str) -> list[str]:
    page = client.get(url)
    parsed = Page(page.status_code, {}, page.content.decode(), 0, url).forms()
    return sorted({f["name"] for form in parsed if form.method == "post" for f in form.fields})


def _mangle(data: st.DrawFn, names: list[str]) -> dict:
    """Each real field: dropped, or given an odd value; plus a few fields nobody asked for."""
    payload = {}
    for name in names:
        if name != "csrfmiddlewaretoken" and data.draw(st.booleans()):
            payload[name] = data.draw(values)
    for extra in data.draw(
        st.lists(st.sampled_from(["id", "pk", "survey", "invitation", "status", "__proto__"]), max_size=2)
    ):
        payload[extra] = data.draw(values)
    return payload


def _assert_handled(response) -> None:
    assert response.status_code < 500, f"{response.status_code} for {response.request}"


@pytest.fixture
def kiosk_survey():
    survey = SurveyFactory(slug="kiosk-props")
    for kind in ("fft", "nps", "rating", "yes_no", "single_choice", "multi_choice", "text"):
        QuestionFactory(survey=survey, kind=kind)
    return survey


@SLOW
@given(data=st.data())
def test_the_kiosk_form_never_fails_and_never_half_saves(client, settings, kiosk_survey, data):
    settings.FEEDBACK_MIN_FILL_SECONDS = 0
    settings.FEEDBACK_KIOSK_RATE_LIMIT = 10**6
    url = f"/k/{kiosk_survey.slug}/"
    names = _form_fields(client, url)
    before = (Response.objects.count(), Answer.objects.count())

    payload = _mangle(data, names)

    response = client.post(url, payload)

    _assert_handled(response)
    added = Response.objects.count() - before[0]
    if response.status_code == 302:  # accepted: one whole response, or a bot's, silently dropped
        trap = payload.get("website") or ""
        bot_trap = bool((trap[-1] if isinstance(trap, list) else trap).strip())
        assert added == (0 if bot_trap else 1)
    else:  # refused: nothing at all was written
        assert (Response.objects.count(), Answer.objects.count()) == before


@SLOW
@given(token=forged_token, method=st.sampled_from(["get", "post"]), data=st.data())
def test_forged_invitation_links_look_like_any_unknown_link(client, token, method, data):
    invitation = InvitationFactory()
    before = (Response.objects.count(), Invitation.objects.filter(status="sent").count())
    for path in (f"/f/{token}/", f"/f/{token}/opt-out/", f"/recovery/r/{token}/"):
        response = getattr(client, method)(
            path, _mangle(data, ["answer", "lang"]) if method == "post" else None
        )
        _assert_handled(response)
        if token != invitation.token:
            assert response.status_code in (400, 404, 405), path
    assert (Response.objects.count(), Invitation.objects.filter(status="sent").count()) == before


@SLOW
@given(data=st.data())
def test_login_password_reset_and_two_factor_take_any_input_calmly(client, data):
    for url in (reverse("login"), reverse("password_reset")):
        _assert_handled(client.post(url, _mangle(data, ["username", "password", "email"])))
    manager = UserFactory(manager=True)
    client.post(reverse("login"), {"username": manager.username, "password": "correct horse battery"})
    _assert_handled(client.post(reverse("security:two_factor_verify"), _mangle(data, ["code"])))


@SLOW
@given(
    body=st.one_of(
        st.binary(max_size=200),
        st.text(max_size=200).map(str.encode),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
            ),
            max_leaves=10,
        ).map(lambda v: json.dumps(v).encode()),
    ),
    auth=st.one_of(st.just(""), st.text(max_size=40).map(lambda t: f"Bearer {t}")),
)
def test_the_visits_api_refuses_bad_bodies_and_forged_tokens_without_writing(client, body, auth):
    before = Invitation.objects.count()
    response = client.post("/api/visits/", body, content_type="application/json", HTTP_AUTHORIZATION=auth)
    _assert_handled(response)
    assert response.status_code in (400, 401, 405, 415)
    assert Invitation.objects.count() == before

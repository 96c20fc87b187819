"""Bad input at every public endpoint: never a 500, never a partial write.

Property-based (hypothesis): huge text, NUL bytes, lone surrogates, non-ASCII digits, odd
Unicode, wrong types, missing and repeated fields, forged tokens and ids, deeply nested JSON,
against every public URL and its forms (patient pages, links, login, password reset), the visits
API's every field, the two-factor step, and the query parameters of the managers' list pages.

At least ``FUZZ_CASES`` generated cases a run (1,000 in the suite, 10,000 under ``make fuzz``, which
CI runs), split across the tests by their cost; the total is counted and printed at the end of the
module (``test_the_fuzz_ran_every_case_it_promises``).
"""

from __future__ import annotations

import json
import os
import time
from urllib.parse import quote_from_bytes

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from feedback import invitations
from feedback.models import Answer, Invitation, InvitationRules, Response
from recovery.models import Incident
from tests.factories import (
    InvitationFactory,
    LocationFactory,
    QuestionFactory,
    SurveyFactory,
    TouchpointFactory,
    UserFactory,
)
from tests.load.harness import Page
from tests.servicedesk.test_url_access import ACCESS, ALL_URLS, PUBLIC

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
            # Digits int() refuses or reads ('²' passes isdigit()), and 10,000-character values.
            "²",
            "٣",
            "\uff11",
            "1²",
            "²" * 10_000,
            "x" * 10_000,
            # Lone surrogates: sent as the invalid UTF-8 they encode to (see _encode).
            "\ud800",
            "a\udfffb",
        ]
    ),
    st.text(alphabet=st.characters(categories=["Cs", "Nd", "No"]), max_size=12),  # surrogates, digits
)
values = st.one_of(odd_text, st.lists(odd_text, min_size=2, max_size=3))
forged_token = st.one_of(
    st.text(
        alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", min_size=1, max_size=120
    ),
    st.sampled_from(["..", ".", "a.b", "%2e%2e", "x" * 5000]),
)
# At least this many generated cases over the module, split by each test's share: 1,000 in every
# run of the suite; ``make fuzz`` (a step of CI, against PostgreSQL) sets 10,000, the promise.
FUZZ_CASES = int(os.environ.get("SERVICEDESK_FUZZ_CASES") or 1_000)
SHARES = {
    "kiosk": 0.08,
    "links": 0.04,
    "login": 0.03,
    "api_bodies": 0.10,
    "public_pages": 0.30,
    "api_fields": 0.25,
    "manager_lists": 0.20,
}
_ran: dict[str, int] = {}
_started: list[float] = []


def _examples(share: str):
    return settings(
        max_examples=max(1, round(FUZZ_CASES * SHARES[share])),
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # a failure is reported as found: no shrinking runs
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def _count(share: str) -> None:
    _started[:] = _started or [time.perf_counter()]
    _ran[share] = _ran.get(share, 0) + 1


def _encode(pairs: list[tuple[str, str]]) -> str:
    """A query string or form body as a browser would send it, a lone surrogate included: as the
    bytes it encodes to, which are not UTF-8 (the test client would refuse to encode it)."""
    return "&".join(f"{_quote(key)}={_quote(value)}" for key, value in pairs)


def _form(payload: dict) -> dict:
    """``_mangle``'s fields as the keyword arguments of a client's post: an encoded form body."""
    pairs = [(k, v) for k, vs in payload.items() for v in (vs if isinstance(vs, list) else [vs])]
    return {"data": _encode(pairs), "content_type": "application/x-www-form-urlencoded"}


def _quote(text: str) -> str:
    return quote_from_bytes(text.encode("utf-8", "surrogatepass"))


def _patient_data() -> tuple:
    """What a refused request must leave as it was."""
    return (
        Response.objects.count(),
        Answer.objects.count(),
        Invitation.objects.count(),
        Invitation.objects.filter(status="sent").count(),
        Incident.objects.count(),
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


@_examples("kiosk")
@given(data=st.data())
def test_the_kiosk_form_never_fails_and_never_half_saves(client, settings, kiosk_survey, data):
    settings.FEEDBACK_MIN_FILL_SECONDS = 0
    settings.FEEDBACK_KIOSK_RATE_LIMIT = 10**6
    url = f"/k/{kiosk_survey.slug}/"
    names = _form_fields(client, url)
    before = (Response.objects.count(), Answer.objects.count())

    payload = _mangle(data, names)
    _count("kiosk")

    response = client.post(url, **_form(payload))

    _assert_handled(response)
    added = Response.objects.count() - before[0]
    if response.status_code == 302:  # accepted: one whole response, or a bot's, silently dropped
        trap = payload.get("website") or ""
        bot_trap = bool((trap[-1] if isinstance(trap, list) else trap).strip())
        assert added == (0 if bot_trap else 1)
    else:  # refused: nothing at all was written
        assert (Response.objects.count(), Answer.objects.count()) == before


@_examples("links")
@given(token=forged_token, method=st.sampled_from(["get", "post"]), data=st.data())
def test_forged_invitation_links_look_like_any_unknown_link(client, token, method, data):
    invitation = InvitationFactory()
    _count("links")
    before = (Response.objects.count(), Invitation.objects.filter(status="sent").count())
    for path in (f"/f/{token}/", f"/f/{token}/opt-out/", f"/recovery/r/{token}/"):
        if method == "post":
            response = client.post(path, **_form(_mangle(data, ["answer", "lang"])))
        else:
            response = client.get(path)
        _assert_handled(response)
        if token != invitation.token:
            assert response.status_code in (400, 404, 405), path
    assert (Response.objects.count(), Invitation.objects.filter(status="sent").count()) == before


@_examples("login")
@given(data=st.data())
def test_login_password_reset_and_two_factor_take_any_input_calmly(client, data):
    _count("login")
    for url in (reverse("login"), reverse("password_reset")):
        _assert_handled(client.post(url, **_form(_mangle(data, ["username", "password", "email"]))))
    manager = UserFactory(manager=True)
    client.post(reverse("login"), {"username": manager.username, "password": "correct horse battery"})
    _assert_handled(client.post(reverse("security:two_factor_verify"), **_form(_mangle(data, ["code"]))))


@_examples("api_bodies")
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
    _count("api_bodies")
    before = Invitation.objects.count()
    response = client.post("/api/visits/", body, content_type="application/json", HTTP_AUTHORIZATION=auth)
    _assert_handled(response)
    assert response.status_code in (400, 401, 405, 415)
    assert Invitation.objects.count() == before


# --- Every public URL, every visits-API field, every manager list's query --------------------

API_FIELDS = [*invitations.visits.JSON_FIELDS, "survey"]
QUERY_NAMES = ["page", "tp", "location", "touchpoint", "days", "survey", "status", "q", "until", "period"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | odd_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(odd_text, inner, max_size=3),
    max_leaves=8,
)
nested = st.integers(min_value=1, max_value=3000).map(lambda depth: "[" * depth + "]" * depth)


def _pairs(data: st.DrawFn, names: list[str]) -> list[tuple[str, str]]:
    """Some of the real fields with odd values (repeated ones too), plus a field nobody asked for."""
    pairs = []
    for name in names:
        if name != "csrfmiddlewaretoken" and data.draw(st.booleans()):
            pairs += [(name, data.draw(odd_text)) for _ in range(data.draw(st.integers(1, 2)))]
    if data.draw(st.booleans()):
        pairs.append((data.draw(st.sampled_from([*QUERY_NAMES, "id", "\x00", "²"])), data.draw(odd_text)))
    return pairs


@pytest.fixture
def public_site(client, settings, kiosk_survey):
    """Every public URL with a real slug and token where it takes one, and the fields of its forms."""
    settings.FEEDBACK_MIN_FILL_SECONDS = 0
    settings.FEEDBACK_KIOSK_RATE_LIMIT = 10**6
    token = InvitationFactory(survey=kiosk_survey).token
    real = {"/k/sample/": f"/k/{kiosk_survey.slug}/", "/f/sample/": f"/f/{token}/"}
    urls = sorted(
        real.get(url, url.replace("/f/sample/", f"/f/{token}/"))
        for url, name in ALL_URLS
        if ACCESS.get(name) == PUBLIC and name != "api_visits"  # the API has its own test below
    )
    return {url: _form_fields(client, url) for url in urls}


@_examples("public_pages")
@given(data=st.data())
def test_every_public_page_takes_any_query_and_form_without_failing_or_half_saving(client, public_site, data):
    url = data.draw(st.sampled_from(sorted(public_site)))
    pairs = _pairs(data, public_site[url])
    before = _patient_data()
    _count("public_pages")

    if data.draw(st.booleans()):
        response = client.post(url, _encode(pairs), content_type="application/x-www-form-urlencoded")
    else:
        response = client.get(f"{url}?{_encode(pairs)}")

    _assert_handled(response)
    after = _patient_data()
    if response.status_code >= 400:
        assert after == before, f"{response.status_code} for {url} wrote {before} -> {after}"
    else:  # at most one whole response (a kiosk or invitation answer), or an invitation closed
        added = after[0] - before[0]
        assert added in (0, 1), (before, after)
        assert after[2] == before[2], (before, after)
        assert before[3] - after[3] in (0, 1), (before, after)
        assert after[4] - before[4] <= added  # an incident only from that response


@pytest.fixture
def api_token(manager):
    rules = InvitationRules.current()
    rules.default_survey = SurveyFactory(slug="after-your-visit", languages=["en", "es"])
    rules.save()
    TouchpointFactory(name="Front desk", location=LocationFactory(name="Riverside Surgery"))
    return invitations.integration_token_create(name="PMS", by=manager)[1]


@_examples("api_fields")
@given(data=st.data())
def test_every_visits_api_field_takes_any_value_and_writes_only_whole_invitations(client, api_token, data):
    visits = []
    for number in range(data.draw(st.integers(1, 3))):
        visit = {"external_id": f"V-{number}", "first_name": "Ana", "email": "ana@example.org"}
        visit |= {"visit_at": "2026-12-03T10:00:00+00:00", "location": "Riverside Surgery"}
        for field in data.draw(st.lists(st.sampled_from(API_FIELDS), min_size=1, max_size=3)):
            visit[field] = data.draw(json_values)
        visits.append(visit)
    body = json.dumps({"visits": visits} if len(visits) > 1 else visits[0])
    if data.draw(st.integers(0, 9)) == 0:  # a value nested deeper than any real body
        body = body.replace('"Ana"', data.draw(nested), 1)
    before = Invitation.objects.count()
    _count("api_fields")

    response = client.post(
        "/api/visits/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {api_token}"
    )

    _assert_handled(response)
    assert response.status_code in (200, 201, 400), response.status_code
    answer = response.json()
    created = sum(r.get("status") == "created" for r in answer.get("results", [answer]))
    assert Invitation.objects.count() - before == created, answer  # whole invitations, or none


MANAGER_LISTS = [
    "dashboard",
    "my_work",
    "team_list",
    "location_list",
    "touchpoint_list",
    "outbox_failed",
    "security:audit_log",
    "feedback:survey_list",
    "feedback:theme_list",
    "feedback:response_list",
    "invitations:invitation_list",
    "invitations:invitation_report",
    "invitations:contact_requests",
    "design:goal_list",
    "design:profile_list",
    "delivery:overview",
    "delivery:protocol_list",
    "delivery:touchpoint_list",
    "delivery:training",
    "recovery:incident_list",
    "recovery:incident_log",
    "recovery:plan_list",
    "recovery:sla_list",
]


@pytest.fixture
def manager_lists(manager_client):
    """The managers' list pages and the names their query strings take (their filters', and more)."""
    return {
        reverse(name): sorted(
            {
                f["name"]
                for form in Page(200, {}, manager_client.get(reverse(name)).content.decode(), 0, "").forms()
                if form.method == "get"
                for f in form.fields
            }
            | set(QUERY_NAMES)
        )
        for name in MANAGER_LISTS
    }


@_examples("manager_lists")
@given(data=st.data())
def test_manager_list_pages_take_any_query_without_failing_or_writing(manager_client, manager_lists, data):
    url = data.draw(st.sampled_from(sorted(manager_lists)))
    pairs = _pairs(data, manager_lists[url])
    before = _patient_data()
    _count("manager_lists")

    response = manager_client.get(f"{url}?{_encode(pairs)}")

    _assert_handled(response)
    assert _patient_data() == before


def test_the_fuzz_ran_every_case_it_promises(capsys):
    """Last in the module: when every fuzz test above ran, together they ran ``FUZZ_CASES`` cases."""
    seconds = time.perf_counter() - _started[0] if _started else 0
    with capsys.disabled():
        print(f"\nhypothesis fuzz: {sum(_ran.values()):,} cases in {seconds:.0f} s {_ran}")
    if set(_ran) != set(SHARES):
        pytest.skip(f"only some of the fuzz ran ({sorted(_ran)})")
    assert sum(_ran.values()) >= FUZZ_CASES

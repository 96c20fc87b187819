"""The one way to read a number from a query string and a JSON body from a visitor."""

from __future__ import annotations

import json

import pytest
from django.http import QueryDict

from servicedesk.untrusted import DEEPEST_JSON, UnreadableJSON, load_json, query_int, unstorable


@pytest.mark.parametrize(
    ("raw", "number"),
    [("7", 7), ("007", 7), ("²", None), ("٣", None), ("\uff11", None), ("-1", None), ("1e3", None)],
)
def test_a_query_number_is_ascii_digits_or_none(raw, number):
    assert query_int(QueryDict(f"tp={raw}"), "tp") == number


def test_a_query_number_too_long_for_any_row_is_none():
    assert query_int({"page": "9" * 19}, "page") is None
    assert query_int({"page": "9" * 18}, "page") == 999_999_999_999_999_999


def test_nul_and_lone_surrogates_are_unstorable_other_text_is_not():
    assert unstorable("a\x00b")
    assert unstorable("\udc80")
    assert not unstorable("Zoë 🙂 ‮ \x01")


def test_json_as_deep_as_allowed_is_read_one_level_deeper_is_refused():
    allowed = "[" * DEEPEST_JSON + "]" * DEEPEST_JSON
    assert load_json(allowed.encode()) is not None
    with pytest.raises(UnreadableJSON, match="nested"):
        load_json(("[" + allowed + "]").encode())


@pytest.mark.parametrize("text", ["\x00", "a\ud83d", "\udc00b"])
def test_json_text_that_cannot_be_stored_is_refused_in_values_and_keys(text):
    with pytest.raises(UnreadableJSON, match="NUL character or an unpaired surrogate"):
        load_json(json.dumps({"visits": [{"first_name": text}]}).encode())
    with pytest.raises(UnreadableJSON):
        load_json(json.dumps({text: 1}).encode())

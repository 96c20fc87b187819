"""Reading what a visitor sends without trusting it: numbers in query strings, text, JSON bodies.

Three kinds of input reached a 500 before these helpers existed:

- a "number" in Unicode digits nobody types on purpose: ``'²'.isdigit()`` is true but ``int('²')``
  fails, so a ``?tp=²`` that passed an ``isdigit()`` check broke the query after it;
- a NUL byte (or a lone UTF-16 surrogate, which no UTF-8 database column can hold): PostgreSQL
  refuses the query that carries it, wherever it came from — a token in the path, a query
  parameter, a JSON field;
- JSON nested deeper than Python's parser recurses.

``servicedesk.middleware.UnstorableInputMiddleware`` refuses the second kind in every request's
path, query string and form with one 400; ``query_int`` and ``load_json`` are the one way to read
the first and third.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

# NUL, and the surrogate halves UTF-8 cannot encode: text no database column here can store.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# A query-string number is at most this many ASCII digits: beyond it no row has that id (and a
# PostgreSQL bigint would overflow).
_LONGEST_NUMBER = 18
# Deeper JSON than any real body (the visits API's is three levels) is refused before parsing.
DEEPEST_JSON = 20


def unstorable(text: str) -> bool:
    """True when the text holds a character no database column can store (NUL, a lone surrogate)."""
    return _UNSTORABLE.search(text) is not None


def query_int(params: Mapping[str, str], name: str) -> int | None:
    """The parameter as a whole number, or None when it is missing or not one in ASCII digits.

    ``str.isdigit`` and ``int`` disagree about Unicode digits ('²' is a digit ``int`` refuses,
    '٣' one it reads as 3); a number in a link is only ever written 0-9.
    """
    raw = params.get(name) or ""
    if raw.isascii() and raw.isdigit() and len(raw) <= _LONGEST_NUMBER:
        return int(raw)
    return None


class UnreadableJSON(ValueError):
    """A body that is not JSON we can use; the message says why, for the caller to show."""


def load_json(body: bytes, *, deepest: int = DEEPEST_JSON) -> object:
    """The parsed body, or ``UnreadableJSON`` for one that is not JSON, is nested deeper than
    ``deepest``, or holds text that cannot be stored (NUL, a lone surrogate)."""
    try:
        payload = json.loads(body)
    except RecursionError:  # deeper than the parser goes: certainly deeper than ``deepest``
        raise UnreadableJSON(f"The body is nested more than {deepest} levels deep.") from None
    except (ValueError, UnicodeDecodeError):
        raise UnreadableJSON("The body is not JSON.") from None
    pending: list[tuple[object, int]] = [(payload, 1)]
    while pending:  # every value, keys included, without recursing; depth counts arrays and objects
        value, depth = pending.pop()
        if isinstance(value, dict | list) and depth > deepest:
            raise UnreadableJSON(f"The body is nested more than {deepest} levels deep.")
        if isinstance(value, str) and unstorable(value):
            raise UnreadableJSON(
                "The body holds a NUL character or an unpaired surrogate, which cannot be stored."
            )
        if isinstance(value, dict):
            pending.extend((item, depth + 1) for pair in value.items() for item in pair)
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
    return payload

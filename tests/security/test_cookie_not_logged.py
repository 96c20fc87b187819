"""A malformed session cookie is never written anywhere: not to stderr, not to any log."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

CANARY = "CanaryCookie7q"
MALFORMED = [
    f"{CANARY} with spaces",
    CANARY + "x" * 400,  # longer than any cache key may be
    f"{CANARY}\x01\x7f",
    f"{CANARY}:signed:looking",
    f"{CANARY}%00%0A",
]


@pytest.mark.parametrize("debug", [False, True], ids=["production", "development"])
def test_a_malformed_session_cookie_is_never_printed_or_logged(
    client,
    settings,
    written_logs,
    capfd,
    recwarn,
    debug,
):
    """Python prints every warning to stderr (pytest records them instead, so they are read here)."""
    settings.DEBUG = debug
    client.raise_request_exception = False
    for value in MALFORMED:
        client.cookies[settings.SESSION_COOKIE_NAME] = value
        for path in ("/healthz", "/accounts/login/", "/k/none/", "/"):
            assert client.get(path).status_code < 500
    printed = capfd.readouterr()
    warned = "\n".join(str(warning.message) for warning in recwarn)
    written = written_logs.getvalue() + printed.out + printed.err + warned
    assert CANARY not in written, written

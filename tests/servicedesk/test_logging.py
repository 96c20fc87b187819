import logging

from servicedesk.logging import RedactTokensFilter, redact


def test_patient_tokens_in_paths_are_redacted():
    assert redact('"GET /f/Zx9_abc-DEF/ HTTP/1.1" 200') == '"GET /f/[redacted]/ HTTP/1.1" 200'
    assert redact("/f/tok123/opt-out/") == "/f/[redacted]/opt-out/"
    assert redact("/r/tok123/") == "/r/[redacted]/"
    assert redact("/accounts/reset/MQ/abc-123/") == "/accounts/reset/[redacted]"
    assert redact("/recovery/incidents/12/") == "/recovery/incidents/12/"


def test_the_log_filter_rewrites_formatted_records():
    record = logging.LogRecord(
        "django.server", logging.INFO, "", 0, '"%s" %s', ("GET /f/secret/ HTTP/1.1", 200), None
    )
    assert RedactTokensFilter().filter(record)
    assert record.getMessage() == '"GET /f/[redacted]/ HTTP/1.1" 200'

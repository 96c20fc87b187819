import logging
import sys

from servicedesk.logging import RedactPersonalDataFilter, RedactTokensFilter, redact, redact_personal_data


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


def test_every_kind_of_link_that_works_like_a_password_is_redacted_as_the_app_builds_it():
    from django.urls import reverse

    secret = "S3cr3t-t0ken_value"
    links = [
        f"/f/{secret}/",  # a survey invitation (Invitation.get_absolute_url)
        f"/f/{secret}/opt-out/",
        reverse("recovery:put_right", args=[secret]),  # "Did we put it right?"
        reverse("password_reset_confirm", kwargs={"uidb64": "MQ", "token": secret}),  # set-password / reset
    ]
    for link in links:
        line = f"GET https://practice.example{link} HTTP/1.1"
        assert secret not in redact(line), link


def test_addresses_phone_numbers_and_percent_encoded_token_links_are_redacted():
    line = (
        "refused pat.o'neil+x@mail.example.org; texted +44 7700 900123 and 07700-900124; "
        'GET /%66/S3cr3t-tok/ HTTP/1.1 then "GET /f%2FS3cr3t-tok/"'
    )
    cleaned = redact_personal_data(line)
    for secret in ("mail.example.org", "7700 900123", "900124", "S3cr3t-tok"):
        assert secret not in cleaned
    assert cleaned.count("[email redacted]") == 1
    assert cleaned.count("[phone redacted]") == 2


def test_what_is_logged_on_purpose_to_trace_a_message_survives():
    line = "email reminder sent id=<179634060056.10971.11518920337356979913@localhost> task 01234567-89ab"
    assert redact_personal_data(line) == line
    assert redact_personal_data("sweep done in 0.22 s: {'sent': 12, 'ids': [1234567890]}").endswith(
        "[1234567890]}"
    )


def test_a_traceback_quoting_an_address_is_redacted_too():
    try:
        raise ValueError("no such mailbox: pat@example.org")
    except ValueError:
        record = logging.LogRecord("celery", logging.ERROR, "", 0, "send failed", (), sys.exc_info())
    assert RedactPersonalDataFilter().filter(record)
    written = logging.Formatter().format(record)
    assert "ValueError" in written
    assert "pat@example.org" not in written

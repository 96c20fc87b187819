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


def test_percent_encoded_forms_of_a_tokened_path_are_redacted_too():
    """Servers decode these to /f/<token>/ and serve the page; the raw request line keeps them."""
    secret = "S3cr3t-t0ken.v4lue"
    for line in [
        f"GET /%66/{secret}/ HTTP/1.1",
        f"GET /f%2F{secret}/ HTTP/1.1",
        f"GET /f%2f{secret}/opt-out/ HTTP/1.1",
        f"GET /%66%2F{secret}/ HTTP/1.1",
        f"GET /f%252F{secret}/ HTTP/1.1",  # escaped twice
        f"GET /recovery/%72/{secret}/ HTTP/1.1",
        f"GET /%61ccounts/reset/MQ/{secret}/ HTTP/1.1",
    ]:
        assert secret not in redact(line), line


def test_redaction_leaves_other_escapes_and_lines_alone():
    line = "GET /recovery/incidents/?page=%66%0A HTTP/1.1"
    assert redact(line) == line
    assert (
        redact("GET /f/tok/?next=%0A HTTP/1.1") == "GET /f/[redacted]/?next=%0A HTTP/1.1"
    )  # no newline let in


def test_the_words_of_a_search_are_redacted():
    """Staff search incidents for what a patient wrote, or their name; the access log keeps the query."""
    assert (
        redact("GET /recovery/incidents/?q=rude+receptionist&status=all HTTP/1.1")
        == "GET /recovery/incidents/?q=[redacted]&status=all HTTP/1.1"
    )
    for line in [
        "GET /recovery/incidents/?status=all&q=Zebedee%20Quill HTTP/1.1",
        "GET /recovery/incidents/?%71=Zebedee HTTP/1.1",  # served as ?q=Zebedee
        '"GET /x/ HTTP/1.1" 200 5 "https://practice.example/recovery/incidents/?q=Zebedee" "Mozilla"',
    ]:
        assert "Zebedee" not in redact(line), line
    for line in ["GET /recovery/incidents/?q=&status=all HTTP/1.1", "GET /help/?faq=Zebedee HTTP/1.1"]:
        assert redact(line) == line


def test_the_gunicorn_access_log_redacts_every_value_it_can_print():
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    from servicedesk.logging import GunicornLogger

    secret = "S3cr3t-t0ken.v4lue"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/%66/{secret}/",
        "PATH_INFO": f"/f/{secret}/",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "QUERY_STRING": "",
        "HTTP_REFERER": f"https://practice.example/f%2F{secret}/",
    }
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"]), ("HOST", "practice.example")])
    response = SimpleNamespace(status="200 OK", headers=[], sent=10)

    atoms = GunicornLogger(Config()).atoms(response, request, environ, timedelta(milliseconds=5))

    assert atoms["r"] == "GET /f/[redacted]/ HTTP/1.1"
    assert not [key for key, value in atoms.items() if secret in str(value)]


def test_the_gunicorn_access_log_redacts_a_search_in_every_value_it_can_print():
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    from servicedesk.logging import GunicornLogger

    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/recovery/incidents/?q=Zebedee+Quillfeather&status=all",
        "PATH_INFO": "/recovery/incidents/",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "QUERY_STRING": "q=Zebedee+Quillfeather&status=all",
    }
    request = SimpleNamespace(headers=[("HOST", "practice.example")])
    response = SimpleNamespace(status="200 OK", headers=[], sent=10)

    atoms = GunicornLogger(Config()).atoms(response, request, environ, timedelta(milliseconds=5))

    assert atoms["r"] == "GET /recovery/incidents/?q=[redacted]&status=all HTTP/1.1"
    assert atoms["q"] == "q=[redacted]&status=all"
    assert not [key for key, value in atoms.items() if "Zebedee" in str(value)]


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

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

"""Keep patient tokens out of logs, whatever logs them (runserver, gunicorn, Django)."""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

from gunicorn.glogging import Logger as _GunicornLogger

# Path segments after these prefixes are bearer secrets: /f/<token>/, /r/<token>/ ...
_TOKEN_PATH = re.compile(r"(/(?:f|r)/)[^/\s?\"']+")
_RESET_PATH = re.compile(r"(/accounts/reset/)[^\s?\"']+")


def redact(text: str) -> str:
    return _RESET_PATH.sub(r"\1[redacted]", _TOKEN_PATH.sub(r"\1[redacted]", text))


class RedactTokensFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class GunicornLogger(_GunicornLogger):
    """gunicorn's access log, with tokens in the request line and referrer redacted."""

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "f"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms


# Email addresses, except the all-digit local part of a Message-ID (<1733.42.7@host>), which we
# log on purpose to trace a message.
_EMAIL_ADDRESS = re.compile(r"(?<![\w.+-])(?![\d.]+@)[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Phone numbers: + or 0, then 9 to 14 more digits, perhaps in groups (+44 7700 900123, 07700-900123).
_PHONE_NUMBER = re.compile(r"(?<![\w+-])(?:\+|0)\d(?:[ -]?\d){8,13}(?![\w-])")


def _percent_decoded(text: str) -> str:
    """The text with percent-encoding undone, twice-encoded forms (%252F) included."""
    for _ in range(3):
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    return text


def redact_personal_data(text: str) -> str:
    """1. Redact token paths; 2. if a token path hides behind percent-encoding (/%66/<token>/,
    /f%2F<token>/), log the decoded, redacted form instead; 3. redact addresses and phone numbers."""
    text = redact(text)
    decoded = _percent_decoded(text)
    if decoded != text and redact(decoded) != decoded:
        text = redact(decoded)
    text = _EMAIL_ADDRESS.sub("[email redacted]", text)
    return _PHONE_NUMBER.sub("[phone redacted]", text)


class RedactPersonalDataFilter(logging.Filter):
    """The one filter on every log handler: no token, address or phone number is written, in a
    message, its arguments, or a traceback (whose text can quote a value, e.g. a refused address).

    Message bodies never reach a log in the first place: Servicedesk logs the kind and id of a
    message, and the console backends withhold the message outside development."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_personal_data(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_personal_data(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_personal_data(record.stack_info)
        return True

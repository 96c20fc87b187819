"""Keep patient tokens out of logs, whatever logs them (runserver, gunicorn, Django)."""

from __future__ import annotations

import logging
import re
import string

from gunicorn.glogging import Logger as _GunicornLogger

# Path segments after these prefixes are bearer secrets: /f/<token>/, /r/<token>/ ...
_TOKEN_PATH = re.compile(r"(/(?:f|r)/)[^/\s?\"']+")
_RESET_PATH = re.compile(r"(/accounts/reset/)[^\s?\"']+")
# What a person typed into a word search sent by GET (the incident list's "Reference or words"):
# staff search for what a patient wrote, or their name, and the access log keeps the query string.
# (At the start too: gunicorn's %(q)s atom is the query string without its "?".)
_SEARCH_QUERY = re.compile(r"((?:^|[?&])q=)[^&#\s\"']+")
# A percent-escape, and the characters whose escapes a server decodes into the same page:
# ``/%66/<token>/`` and ``/f%2F<token>/`` are served as ``/f/<token>/``, and the raw request
# line gunicorn and runserver log keeps them escaped. Other escapes (a newline, a quote) stay.
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_PATH_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-._~/%")
# Escapes of escapes (%2566): each round decodes one layer; three are more than any server undoes.
_DECODINGS = 3


def redact(text: str) -> str:
    """The text with every token of a patient link or password reset, and the words of a search
    (``?q=``), replaced by [redacted], percent-encoded forms of those paths included (redacted
    lines are logged decoded)."""
    readable = _decode_path_characters(text)
    cleaned = _RESET_PATH.sub(r"\1[redacted]", _TOKEN_PATH.sub(r"\1[redacted]", readable))
    cleaned = _SEARCH_QUERY.sub(r"\1[redacted]", cleaned)
    return text if cleaned == readable else cleaned


def _decode_path_characters(text: str) -> str:
    for _ in range(_DECODINGS):
        decoded = _ESCAPE.sub(_decode_if_path_character, text)
        if decoded == text:
            break
        text = decoded
    return text


def _decode_if_path_character(match: re.Match[str]) -> str:
    character = chr(int(match[1], 16))
    return character if character in _PATH_CHARACTERS else match[0]


class RedactTokensFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class GunicornLogger(_GunicornLogger):
    """gunicorn's access log, with tokens redacted in every value a format can name: the request
    line, the path, the referrer and any header."""

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}


# Email addresses, except the all-digit local part of a Message-ID (<1733.42.7@host>), which we
# log on purpose to trace a message.
_EMAIL_ADDRESS = re.compile(r"(?<![\w.+-])(?![\d.]+@)[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Phone numbers: + or 0, then 9 to 14 more digits, perhaps in groups (+44 7700 900123, 07700-900123).
_PHONE_NUMBER = re.compile(r"(?<![\w+-])(?:\+|0)\d(?:[ -]?\d){8,13}(?![\w-])")


def redact_personal_data(text: str) -> str:
    """Token paths redacted (``redact``: percent-encoded forms too), then addresses and phone numbers."""
    text = _EMAIL_ADDRESS.sub("[email redacted]", redact(text))
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

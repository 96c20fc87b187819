"""Keep patient tokens out of logs, whatever logs them (runserver, gunicorn, Django)."""

from __future__ import annotations

import logging
import re

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

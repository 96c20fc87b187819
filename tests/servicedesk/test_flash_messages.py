"""Every flash message a person reads goes through gettext, with named placeholders filled in after
translation: no English-only literals, no f-strings (a translator cannot see them), no raw "%(x)s"."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("servicedesk", "design", "delivery", "feedback", "recovery", "dashboard")


def _untranslated_messages() -> list[str]:
    found = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "messages"
                    and node.func.attr in {"success", "info", "warning", "error"}
                    and len(node.args) >= 2
                ):
                    continue
                text = node.args[1]
                if isinstance(text, ast.Constant | ast.JoinedStr):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_flash_messages_are_translated_and_never_f_strings():
    assert _untranslated_messages() == []

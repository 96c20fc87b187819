"""No module of the project grows past 600 lines (issue 13): past that, split it by concern."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 600


def test_no_module_is_over_600_lines():
    modules = [
        path
        for path in ROOT.rglob("*.py")
        if not {".venv", "migrations", "node_modules"} & set(path.relative_to(ROOT).parts)
    ]
    assert len(modules) > 100
    too_long = {
        str(path.relative_to(ROOT)): n
        for path in modules
        if (n := len(path.read_text().splitlines())) > LIMIT
    }
    assert too_long == {}

"""SQL lives in `storage.queries`: handlers and schedules call its functions and hold the rules."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Statement builders and the calls that run them; a handler or a job needs neither.
BUILDERS = {"select", "insert", "update", "delete", "text", "func", "and_", "or_", "bindparam"}
RUNNERS = {"exec", "execute", "scalar", "scalars"}

# Where SQL stays, and why.
ALLOWED = {
    # The demo's bulk seeding: thousands of rows in one transaction on a raw connection.
    "handlers/demo.py": {"insert", "select", "execute"},
    # The clock's session-level advisory lock on its own dedicated connection.
    "schedules/clock_lock.py": {"text", "scalar"},
}


def _sql_in(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ("sqlmodel", "sqlalchemy"):
            found |= {alias.name for alias in node.names if alias.name in BUILDERS}
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RUNNERS:
            found.add(node.func.attr)
    return found


def test_handlers_and_schedules_build_and_run_no_sql_of_their_own():
    strays = {}
    for folder in ("handlers", "schedules"):
        for path in sorted((ROOT / folder).glob("*.py")):
            name = f"{folder}/{path.name}"
            extra = _sql_in(path) - ALLOWED.get(name, set())
            if extra:
                strays[name] = sorted(extra)
    assert strays == {}, f"move this SQL into storage/queries: {strays}"

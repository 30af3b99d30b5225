"""The layering rules of DESIGN.md, checked by reading every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imports(package: str) -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(str(path.relative_to(ROOT)), a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((str(path.relative_to(ROOT)), node.module))
    return found


def _top(module: str) -> str:
    return module.split(".")[0]


def test_backend_client_imports_no_qt_desktop_or_ui() -> None:
    bad = [(f, m) for f, m in _imports("backend_client")
           if _top(m) in {"PySide6", "shiboken6", "desktop", "ui"}]
    assert bad == [], f"backend_client must stay Qt-free: {bad}"


def test_ui_imports_only_dtos_and_errors_from_backend_and_nothing_from_desktop() -> None:
    allowed = {"backend_client.dto", "backend_client.errors"}

    def is_dto(m: str) -> bool:  # a capability's own DTO module: backend_client.chart.dto
        parts = m.split(".")
        return m in allowed or (len(parts) == 3 and parts[2] == "dto")

    bad = [(f, m) for f, m in _imports("ui")
           if (_top(m) == "backend_client" and not is_dto(m)) or _top(m) == "desktop"]
    assert bad == [], f"ui may use only DTOs and errors from backend_client: {bad}"


@pytest.mark.parametrize("store_lib", ["sqlalchemy", "pymongo", "redis", "boto3", "botocore"])
def test_ui_never_talks_to_a_store(store_lib: str) -> None:
    bad = [(f, m) for f, m in _imports("ui") if _top(m) == store_lib]
    assert bad == []


def test_the_rule_checker_sees_imports() -> None:
    # Guards the guard: if parsing silently found nothing, the tests above would pass.
    assert any(m.startswith("PySide6") for _, m in _imports("ui"))
    assert any(m == "sqlalchemy" for _, m in _imports("backend_client"))


def test_the_window_is_built_without_loading_a_store_library() -> None:
    """The first paint must not wait for sqlalchemy, pymongo, redis, psycopg, argon2 or
    boto3 (about half a second here): bootstrap loads them on a pool thread."""
    import subprocess
    import sys

    code = ("import sys, desktop.bootstrap, desktop.app, ui.main_window; "
            "print(','.join(m for m in ('sqlalchemy', 'pymongo', 'redis', 'psycopg', "
            "'argon2', 'boto3') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "", f"loaded before the first paint: {out}"

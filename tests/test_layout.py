"""The layout's arrows point one way: core <- licenses <- shipments <- monitoring. An app never
imports, or looks up by name, an app above it (STYLE.md, Shape)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
LAYERS = ["core", "licenses", "shipments", "monitoring"]


def sources(app: str):
    for path in sorted((ROOT / app).rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def imported_apps(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
    return found


@pytest.mark.parametrize("app", LAYERS)
def test_an_app_imports_no_app_above_it(app):
    above = set(LAYERS[LAYERS.index(app) + 1 :]) | ({"config"} if app == "core" else set())
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_apps(path) & above)
        for path in sources(app)
        if imported_apps(path) & above
    }
    assert not offenders


@pytest.mark.parametrize("app", LAYERS[:-1])
def test_an_app_looks_up_no_model_of_an_app_above_it_by_name(app):
    above = "|".join(LAYERS[LAYERS.index(app) + 1 :])
    by_name = re.compile(rf"""get_model\(\s*["']({above})["']|["']({above})\.[A-Z]\w+["']""")
    offenders = [
        str(path.relative_to(ROOT)) for path in sources(app) if by_name.search(path.read_text())
    ]
    assert not offenders


def test_the_layout_test_would_see_an_import_reaching_up(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("from monitoring.models import Flag\nimport shipments.services\n")
    assert imported_apps(module) == {"monitoring", "shipments"}

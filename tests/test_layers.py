"""Imports only go forward (pipelines → spiders → warehouse → transforms → flows), checked by import-linter
with the contracts in pyproject.toml; a deliberate back-import breaks them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pipelines", "spiders", "warehouse", "transforms", "flows", "replica")
LINT = [sys.executable, "-c",
        "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"]


def lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(project)}
    return subprocess.run(LINT, cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False)


def copy_of_project(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "fixtures"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_project_keeps_its_import_contracts() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "2 kept, 0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "back_import", "contract"),
    [
        ("warehouse/db.py", "import transforms.build", "Stages import only earlier stages"),
        ("pipelines/items.py", "from spiders import source", "Stages import only earlier stages"),
        ("transforms/export.py", "import replica.world", "Production stages never import the replica"),
    ],
)
def test_a_back_import_breaks_a_contract(tmp_path: Path, module: str, back_import: str, contract: str) -> None:
    project = copy_of_project(tmp_path)
    path = project / module
    # After the module docstring and `from __future__`, where an import would really go.
    lines = path.read_text("utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("from __future__")) + 1
    path.write_text("\n".join([*lines[:at], back_import, *lines[at:]]) + "\n", "utf-8")
    done = lint_imports(project)
    assert done.returncode != 0
    assert f"{contract} BROKEN" in done.stdout, done.stdout[-3000:]
    assert "1 broken" in done.stdout

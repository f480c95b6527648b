"""src/ledger_core/_native.pyi names exactly what the compiled module binds, and the
public modules' __all__ names exist."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ledger_core
from ledger_core import _native

STUB = Path(ledger_core.__file__).with_name("_native.pyi")


def _stub_names() -> set:
    tree = ast.parse(STUB.read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_every_native_name_is_in_the_stub_and_every_stub_name_exists():
    bound = {n for n in dir(_native) if not n.startswith("__")}
    stubbed = _stub_names()
    assert sorted(bound - stubbed) == [], "bound in python/*.cpp but missing from _native.pyi"
    assert sorted(stubbed - bound) == [], "in _native.pyi but not bound"


@pytest.mark.parametrize("module", ["hashing", "ed25519", "merkle", "proofs", "checkpoint", "errors"])
def test_public_names_exist(module):
    mod = getattr(ledger_core, module)
    for name in mod.__all__:
        assert hasattr(mod, name), f"ledger_core.{module}.__all__ names {name}, which does not exist"


def test_package_type_checks_with_mypy(tmp_path):
    """The facade's annotations agree with _native.pyi (mypy over the installed package)."""
    import subprocess
    import sys

    src = Path(ledger_core.__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "-p", "ledger_core", "--ignore-missing-imports",
         "--cache-dir", str(tmp_path / "mypy-cache")],
        cwd=src, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr

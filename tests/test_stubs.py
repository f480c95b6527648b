"""The stubs are true: src/ledger_core/_native.pyi names exactly what the compiled module
binds, with the same signatures; mypy.stubtest passes over the package; the public
modules' __all__ names exist; the package type-checks.

stubtest cannot read the signature of a pybind11 function (there is no
__text_signature__, so inspect.signature fails and stubtest checks only that the name
exists and is callable). pybind11 writes each signature into the first line of the
docstring instead: test_native_signatures_match_the_stub compares those (parameter
names, order, which have defaults and their values, positional-only for unnamed
arguments, None returns) with the stub.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Tuple

import pytest

import ledger_core
from ledger_core import _native

STUB = Path(ledger_core.__file__).with_name("_native.pyi")
ALLOWLIST = Path(__file__).with_name("stubtest_allowlist.txt")


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
    src = Path(ledger_core.__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "-p", "ledger_core", "--ignore-missing-imports",
         "--cache-dir", str(tmp_path / "mypy-cache")],
        cwd=src, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_stubtest_passes_over_the_package(tmp_path):
    """mypy.stubtest over ledger_core (every module, _native.pyi against the compiled
    module); tests/stubtest_allowlist.txt lists, with reasons, only what stubtest cannot see."""
    src = Path(ledger_core.__file__).resolve().parents[1]
    config = tmp_path / "mypy.ini"
    # Third-party modules without type information (pyarrow) are Any, as in the mypy test
    # below: stubtest checks ledger_core's stubs, not theirs.
    config.write_text(f"[mypy]\ncache_dir = {tmp_path / 'mypy-cache'}\nignore_missing_imports = True\n",
                      encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(src)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    done = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "ledger_core", "--allowlist", str(ALLOWLIST),
         "--mypy-config-file", str(config)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


# --- the signatures of the compiled module against the stub ----------------------------


class Param(NamedTuple):
    name: str
    has_default: bool
    default: object  # the default's value when it is a literal, else _UNKNOWN
    positional_only: bool


_UNKNOWN = object()


def _split_top_level(text: str) -> List[str]:
    """Splits at commas outside brackets and quotes."""
    parts, depth, start, quote = [], 0, 0, ""
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    tail = text[start:]
    if tail.strip():
        parts.append(tail)
    return [p.strip() for p in parts]


def _literal(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return _UNKNOWN


def runtime_signature(obj: object) -> Optional[Tuple[List[Param], bool]]:
    """(parameters, returns None) from a pybind11 docstring's first line; None when the
    object has no such line (or is overloaded)."""
    doc = getattr(obj, "__doc__", None) or ""
    name = getattr(obj, "__name__", "")
    first = doc.split("\n", 1)[0]
    if "Overloaded function." in doc or not first.startswith(name + "("):
        return None
    depth = 0
    for end, ch in enumerate(first):
        depth += ch == "("
        depth -= ch == ")"
        if ch == ")" and depth == 0:
            break
    inner, rest = first[len(name) + 1:end], first[end + 1:]
    params = []
    for part in _split_top_level(inner):
        head, _, default = part.partition(" = ")
        pname = head.split(":", 1)[0].strip()
        params.append(Param(pname, bool(default), _literal(default) if default else _UNKNOWN,
                            bool(re.fullmatch(r"arg\d+", pname))))
    return params, rest.strip() == "-> None"


def stub_signature(fn: ast.FunctionDef) -> Tuple[List[Param], bool]:
    args = fn.args
    positional = args.posonlyargs + args.args
    defaults: List[Optional[ast.expr]] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    params = []
    for i, (a, d) in enumerate(zip(positional, defaults)):
        posonly = i < len(args.posonlyargs) or (a.arg.startswith("__") and not a.arg.endswith("__"))
        value = _UNKNOWN
        if d is not None and not (isinstance(d, ast.Constant) and d.value is Ellipsis):
            value = _literal(ast.unparse(d))
        params.append(Param(a.arg, d is not None, value, posonly))
    for a, d in zip(args.kwonlyargs, args.kw_defaults):
        params.append(Param(a.arg, d is not None, _UNKNOWN, False))
    returns_none = isinstance(fn.returns, ast.Constant) and fn.returns.value is None
    return params, returns_none


def _stub_functions() -> Dict[str, Tuple[ast.FunctionDef, bool]]:
    """'name' or 'Class.name' -> (definition, is a method taking self)."""
    tree = ast.parse(STUB.read_text(encoding="utf-8"))
    found: Dict[str, Tuple[ast.FunctionDef, bool]] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found[node.name] = (node, False)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if not isinstance(item, ast.FunctionDef):
                    continue
                decorators = {ast.unparse(d) for d in item.decorator_list}
                if "property" in decorators:
                    continue
                found[f"{node.name}.{item.name}"] = (item, "staticmethod" not in decorators)
    return found


def _compare(path: str, stub: ast.FunctionDef, is_method: bool, runtime: object) -> List[str]:
    got = runtime_signature(runtime)
    if got is None:
        return []
    run_params, run_none = got
    stub_params, stub_none = stub_signature(stub)
    if is_method:
        stub_params = stub_params[1:]
        if run_params and run_params[0].name == "self":
            run_params = run_params[1:]
    problems = []
    if len(run_params) != len(stub_params) or any(
            r.name != s.name for r, s in zip(run_params, stub_params) if not r.positional_only):
        problems.append(f"{path}: parameters {[p.name for p in run_params]} bound, "
                        f"{[p.name for p in stub_params]} in the stub")
        return problems
    for r, s in zip(run_params, stub_params):
        if r.positional_only and not s.positional_only:
            problems.append(f"{path}: {s.name} is unnamed in the binding ({r.name}: positional only): "
                            f"name it with py::arg, or make it positional-only in the stub")
        if r.has_default != s.has_default:
            problems.append(f"{path}: {s.name} has {'a' if r.has_default else 'no'} default when bound, "
                            f"{'one' if s.has_default else 'none'} in the stub")
        elif r.has_default and r.default is not _UNKNOWN and s.default is not _UNKNOWN and r.default != s.default:
            problems.append(f"{path}: {s.name} defaults to {r.default!r} when bound, {s.default!r} in the stub")
    if run_none != stub_none:
        problems.append(f"{path}: returns {'None' if run_none else 'a value'} when bound, "
                        f"{'None' if stub_none else 'a value'} in the stub")
    return problems


def test_native_signatures_match_the_stub():
    problems = []
    for path, (fn, is_method) in sorted(_stub_functions().items()):
        owner: object = _native
        for part in path.split("."):
            owner = getattr(owner, part, None)
            if owner is None:
                break
        if owner is None:
            continue  # a missing name is the first test's finding
        problems += _compare(path, fn, is_method, owner)
    assert problems == [], "\n".join(problems)


def test_signature_check_sees_a_wrong_stub():
    """The comparison above can fail: a renamed, a dropped and a re-defaulted parameter."""
    wrong = ast.parse("def blake3(data, key=None, size=32) -> bytes: ...\n"
                      "def sha256(data, extra) -> bytes: ...\n"
                      "def hardware_thread_count() -> None: ...\n").body
    assert _compare("blake3", wrong[0], False, _native.blake3)
    assert _compare("sha256", wrong[1], False, _native.sha256)
    assert _compare("hardware_thread_count", wrong[2], False, _native.hardware_thread_count)

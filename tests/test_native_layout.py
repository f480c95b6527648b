"""The native layout's contracts (STYLE.md): bindings see public headers only, and SIMD
kernels are declared in internal headers only, so that every path goes through its
module's one dispatch point (native/common/dispatch.h)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NATIVE = ROOT / "native"
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)

# Headers internal to their module: kernels, inline templates, path tables.
INTERNAL = re.compile(r"(_impl|_inline)\.h$|^ed25519/field_paths\.h$|^sha2/md_buffer\.h$")
KERNEL_DECLARATION = re.compile(r"^[^/\n]*\b\w+_(avx2|avx512|shani|mulx)\s*\(", re.MULTILINE)


def _public_headers():
    return [p for p in NATIVE.rglob("*.h") if not INTERNAL.search(p.relative_to(NATIVE).as_posix())]


def test_bindings_include_only_public_headers():
    bad = []
    for source in sorted((ROOT / "python").glob("*.[ch]*")):
        for name in INCLUDE.findall(source.read_text(encoding="utf-8")):
            if (NATIVE / name).exists() and INTERNAL.search(name):
                bad.append(f"{source.name} includes {name}")
    assert not bad, bad


def test_public_headers_declare_no_simd_kernel():
    headers = _public_headers()
    assert any(h.name == "sha256.h" for h in headers)  # the pattern does find the public ones
    bad = []
    for header in headers:
        for match in KERNEL_DECLARATION.finditer(header.read_text(encoding="utf-8")):
            bad.append(f"{header.relative_to(NATIVE)}: {match.group(0).strip()}")
    assert not bad, bad


def test_each_module_has_one_dispatch_point():
    dispatch_files = sorted(p.relative_to(NATIVE).as_posix() for p in NATIVE.rglob("*_dispatch.cpp"))
    assert dispatch_files == [
        "blake3/blake3_dispatch.cpp",
        "ed25519/ed25519_dispatch.cpp",
        "sha2/sha256_dispatch.cpp",
        "sha2/sha512_dispatch.cpp",
    ]
    for name in dispatch_files:
        assert "common/dispatch.h" in INCLUDE.findall((NATIVE / name).read_text(encoding="utf-8")), name

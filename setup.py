"""Build of ledger_core._native: every .cpp under native/ and python/, one extension.

Portable by default (-O3, no -march=native): SIMD paths are compiled with GCC target
attributes and chosen at run time, so a wheel runs on any x86-64.
"""
import glob
import os
import re

from pybind11.setup_helpers import ParallelCompile, Pybind11Extension, build_ext
from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))


def _sources():
    native = glob.glob("native/**/*.cpp", recursive=True)
    binding = glob.glob("python/*.cpp")
    return sorted(native) + sorted(binding)


def _headers():
    return sorted(glob.glob("native/**/*.h", recursive=True) + glob.glob("python/*.h"))


_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)


def _included(path, seen):
    """The project headers `path` includes, directly or not (quoted includes found under
    native/ or python/)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return seen
    for name in _INCLUDE.findall(text):
        for root in ("native", "python", os.path.dirname(path)):
            candidate = os.path.normpath(os.path.join(root, name))
            if os.path.exists(candidate):
                if candidate not in seen:
                    seen.add(candidate)
                    _included(candidate, seen)
                break
    return seen


def _needs_recompile(obj, src):
    """Per-object incremental rebuilds: the source, or a header it includes, is newer than
    the object."""
    if not os.path.exists(obj):
        return True
    built = os.stat(obj).st_mtime
    return any(os.stat(f).st_mtime >= built for f in [src, *_included(src, set())])


ParallelCompile("LEDGER_CORE_BUILD_JOBS", needs_recompile=_needs_recompile).install()

_extra = ["-O3", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fno-strict-aliasing"]
_link = []
# LEDGER_CORE_DEBUG=1: AddressSanitizer + UBSan, every UB report fatal (no recovery), so
# a sanitizer stage cannot pass with a report in its log. setup.py compares file times
# only, so a sanitized build needs its own --build-temp/--build-lib (run.sh's sanitizer
# stage does that); over a normal build's objects it would relink nothing.
_SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined"]
if os.environ.get("LEDGER_CORE_DEBUG"):
    _extra = ["-O1", "-g", "-fno-omit-frame-pointer", "-Wall"] + _SANITIZE
    _link = list(_SANITIZE)

ext = Pybind11Extension(
    "ledger_core._native",
    _sources(),
    include_dirs=["native", "python"],
    depends=_headers(),
    cxx_std=17,
    extra_compile_args=_extra,
    extra_link_args=_link,
    libraries=["lmdb"],
)

setup(ext_modules=[ext], cmdclass={"build_ext": build_ext})

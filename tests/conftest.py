"""Shared fixtures: where the published vectors live, hypothesis profiles."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]


def _find_shared() -> Path:
    """$LEDGER_CORE_SHARED, else the nearest `shared/` beside the checkout or an ancestor of it."""
    if os.environ.get("LEDGER_CORE_SHARED"):
        return Path(os.environ["LEDGER_CORE_SHARED"])
    for parent in ROOT.parents:
        if (parent / "shared" / "vectors").is_dir():
            return parent / "shared"
    return ROOT.parent / "shared"


SHARED = _find_shared()
VECTORS = SHARED / "vectors"

# Under CI (CI=true) the examples are derandomized: the run that decides whether a change
# lands is the run a developer can repeat exactly. Local runs explore new examples each
# time (and LEDGER_CORE_FUZZ_EXAMPLES makes the fuzz targets run longer).
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=bool(os.environ.get("CI")),
)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def load_vectors(relative: str):
    """Parse a JSON vector file under ../shared/vectors; a missing file fails the test."""
    path = VECTORS / relative
    if not path.exists():
        pytest.fail(f"test vectors missing: {path} (set LEDGER_CORE_SHARED to the shared/ folder)")
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    if not VECTORS.is_dir():
        pytest.fail(f"test vectors missing: {VECTORS} (set LEDGER_CORE_SHARED to the shared/ folder)")
    return VECTORS

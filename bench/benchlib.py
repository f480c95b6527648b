"""What every benchmark here records about the machine it ran on (bench/*.py import it;
they run as scripts, so this folder is on sys.path)."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from typing import Dict

import ledger_core


def cpu_model() -> str:
    """The CPU's model name from lscpu, else what platform knows."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown"
    found = re.search(r"Model name:\s*(.+)", out)
    return found.group(1).strip() if found else (platform.processor() or "unknown")


def machine(**anchors: object) -> Dict[str, object]:
    """CPU, cores, Python, ledger_core's active paths, the load average now, and the
    versions of the anchor packages given as keyword arguments (name=module)."""
    info: Dict[str, object] = {
        "cpu_model": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "python": platform.python_version(),
        "ledger_core_features": ledger_core.features(),
        "load_average_at_start": list(os.getloadavg()),
    }
    for name, module in anchors.items():
        info[name] = getattr(module, "__version__", "unknown")
    return info

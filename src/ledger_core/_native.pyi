# Type stubs of the private compiled module ledger_core._native.
# Keep in step with python/*.cpp: one section per binding file.
from typing import Dict, Union

import numpy as np
import numpy.typing as npt

_Buffer = Union[bytes, bytearray, memoryview, npt.NDArray[np.uint8]]

# --- bind_common.cpp ---
def cpu_features() -> Dict[str, bool]: ...
def active_paths() -> Dict[str, str]: ...
def hardware_thread_count() -> int: ...

# --- bind_hashing.cpp ---
SHA256_LEN: int
SHA512_LEN: int
def sha256(data: _Buffer) -> bytes: ...
def sha512(data: _Buffer) -> bytes: ...

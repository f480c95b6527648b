# Type stubs of the private compiled module ledger_core._native.
# Keep in step with python/*.cpp: one section per binding file.
from typing import Dict, List, Optional, Union

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

# --- bind_ed25519_single.cpp ---
ED25519_PUBLIC_KEY_LEN: int
ED25519_SIGNATURE_LEN: int
def ed25519_verify(public_key: _Buffer, message: _Buffer, signature: _Buffer) -> int: ...
def ed25519_active_path() -> str: ...
def _ed25519_verify_on_path(
    path: str, public_key: _Buffer, message: _Buffer, signature: _Buffer
) -> Optional[int]: ...

# --- bind_ed25519.cpp ---
def ed25519_verify_batch_fixed(
    public_keys: npt.NDArray[np.uint8],
    messages: npt.NDArray[np.uint8],
    signatures: npt.NDArray[np.uint8],
    threads: int = 0,
    msm: int = 0,
) -> npt.NDArray[np.uint8]: ...
def ed25519_verify_batch_var(
    public_keys: npt.NDArray[np.uint8],
    buffer: _Buffer,
    offsets: npt.NDArray[np.uint64],
    signatures: npt.NDArray[np.uint8],
    threads: int = 0,
    msm: int = 0,
) -> npt.NDArray[np.uint8]: ...
def ed25519_verify_batch_list(
    public_keys: npt.NDArray[np.uint8],
    messages: List[bytes],
    signatures: npt.NDArray[np.uint8],
    threads: int = 0,
    msm: int = 0,
) -> Optional[npt.NDArray[np.uint8]]: ...
def ed25519_key_cache_stats() -> Dict[str, int]: ...
def ed25519_key_cache_clear() -> None: ...
def ed25519_scalar_reduce64(data: bytes) -> bytes: ...
def ed25519_scalar_is_canonical(data: bytes) -> bool: ...
def ed25519_scalar_muladd(a: bytes, b: bytes, c: bytes) -> bytes: ...
def ed25519_msm(
    points: npt.NDArray[np.uint8],
    scalars: npt.NDArray[np.uint8],
    b_scalar: bytes,
    msm: int = 0,
    threads: int = 1,
) -> bytes: ...

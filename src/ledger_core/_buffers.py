"""Argument normalisation shared by the facade modules (private).

The native layer accepts exactly two shapes of "many byte strings":

* fixed: a C-contiguous (N, k) uint8 numpy array, item i is row i;
* var: one contiguous byte buffer plus N + 1 uint64 offsets (Arrow layout),
  item i is buffer[offsets[i]:offsets[i + 1]].

Everything a user may pass (a list of bytes, a 2-D array, a (buffer, offsets) pair)
is turned into one of those here, with errors that name the argument.
"""

from __future__ import annotations

from typing import Any, Optional, Tuple, Union

import numpy as np

BytesLike = Union[bytes, bytearray, memoryview]


def as_bytes(data: Any, name: str) -> BytesLike:
    """Return `data` as a contiguous bytes-like object, or raise TypeError naming it."""
    if isinstance(data, (bytes, bytearray)):
        return data
    if isinstance(data, np.ndarray):
        if data.dtype != np.uint8:
            raise TypeError(f"{name} must be bytes-like or a uint8 array, got dtype {data.dtype}")
        return np.ascontiguousarray(data).data.cast("B")
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError(
            f"{name} must be bytes-like (bytes, bytearray, memoryview, uint8 array), "
            f"got {type(data).__name__}"
        ) from None
    if not view.contiguous:
        view = memoryview(view.tobytes())
    return view.cast("B") if view.format != "B" or view.ndim != 1 else view


def as_fixed_bytes(data: Any, length: int, name: str) -> BytesLike:
    """as_bytes, and the length must be exactly `length` (ValueError naming it)."""
    view = as_bytes(data, name)
    if len(view) != length:
        raise ValueError(f"{name} must be {length} bytes, got {len(view)}")
    return view


def as_rows(array: Any, width: int, name: str) -> np.ndarray:
    """An (N, width) C-contiguous uint8 array, or ValueError/TypeError naming `name`."""
    arr = np.asarray(array)
    if arr.dtype != np.uint8:
        if arr.dtype == object or arr.ndim == 1:
            # A list of bytes objects: each must be exactly `width` long.
            rows = list(array)
            for i, row in enumerate(rows):
                if len(as_bytes(row, f"{name}[{i}]")) != width:
                    raise ValueError(f"{name}[{i}] must be {width} bytes, got {len(row)}")
            arr = np.frombuffer(b"".join(bytes(r) for r in rows), dtype=np.uint8)
            return arr.reshape(len(rows), width) if rows else np.zeros((0, width), np.uint8)
        raise TypeError(f"{name} must be a uint8 array of shape (N, {width}), got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[1] != width:
        raise ValueError(f"{name} must have shape (N, {width}), got {arr.shape}")
    return np.ascontiguousarray(arr)


# ("fixed", rows) or ("var", buffer, offsets): callers branch on the first element.
Items = Tuple[Any, ...]


def as_items(items: Any, name: str) -> Items:
    """Normalise "many byte strings" to ("fixed", rows) or ("var", buffer, offsets).

    Accepted: a 2-D uint8 array (N, k); a (buffer, offsets) tuple where offsets has
    N + 1 non-decreasing entries inside the buffer; any other sequence of bytes-like
    objects.
    """
    if isinstance(items, np.ndarray):
        if items.dtype != np.uint8 or items.ndim != 2:
            raise ValueError(
                f"{name} as an array must be 2-D uint8 (N, k), got {items.dtype} with shape {items.shape}"
            )
        return ("fixed", np.ascontiguousarray(items))
    if isinstance(items, tuple) and len(items) == 2 and not isinstance(items[0], (int, np.integer)):
        buffer, offsets = items
        if isinstance(offsets, np.ndarray) or (
            isinstance(offsets, (list, tuple)) and all(isinstance(o, (int, np.integer)) for o in offsets)
        ):
            buf = as_bytes(buffer, f"{name} buffer")
            offs = np.asarray(offsets)
            if offs.ndim != 1 or offs.size < 1:
                raise ValueError(f"{name} offsets must be 1-D with N + 1 entries")
            if offs.dtype.kind not in "iu":
                raise TypeError(f"{name} offsets must be integers, got dtype {offs.dtype}")
            if offs.size and offs.min() < 0:
                raise ValueError(f"{name} offsets must not be negative")
            offs = np.ascontiguousarray(offs, dtype=np.uint64)
            return ("var", buf, offs)
    if isinstance(items, (bytes, bytearray, memoryview, str)):
        raise TypeError(f"{name} must be a sequence of byte strings, not a single {type(items).__name__}")
    try:
        seq = list(items)
    except TypeError:
        raise TypeError(f"{name} must be a 2-D uint8 array, a (buffer, offsets) pair or a sequence of bytes") from None
    views = [as_bytes(item, f"{name}[{i}]") for i, item in enumerate(seq)]
    offsets = np.zeros(len(views) + 1, dtype=np.uint64)
    if views:
        np.cumsum([len(v) for v in views], out=offsets[1:])
    return ("var", b"".join(views), offsets)


def resolve_threads(threads: Optional[int], name: str = "threads") -> int:
    """None -> 0 (all cores); a positive int as is; anything else raises."""
    if threads is None:
        return 0
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)):
        raise TypeError(f"{name} must be None or a positive int, got {type(threads).__name__}")
    if threads < 1:
        raise ValueError(f"{name} must be None (all cores) or >= 1, got {threads}")
    return int(threads)

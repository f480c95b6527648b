"""Argument normalisation shared by the facade modules, and the public `Packed` type.

The native layer accepts exactly two shapes of "many byte strings":

* fixed: a C-contiguous (N, k) uint8 numpy array, item i is row i;
* var: one contiguous byte buffer plus N + 1 uint64 offsets (Arrow layout),
  item i is buffer[offsets[i]:offsets[i + 1]].

What a user may pass is said by its type, never guessed from its shape:

=================================  ==========================================
a 2-D uint8 numpy array (N, k)     N rows of k bytes (fixed)
``Packed(buffer, offsets)``         the var layout, validated once
a pyarrow Binary / LargeBinary      var, its data and offsets buffers, no copy
a pyarrow FixedSizeBinary           fixed, its rows, no copy
any other sequence (list, tuple)    a sequence of items, each bytes-like
=================================  ==========================================

A tuple of two arrays is two items. Errors name the argument (and the item index).
"""

from __future__ import annotations

import operator
from typing import Any, List, Optional, Tuple, Union

import numpy as np

from ledger_core import _native
from ledger_core.errors import InvalidArgumentError, InvalidTypeError, MalformedInputError, OutOfRangeError

BytesLike = Union[bytes, bytearray, memoryview]

# The most threads a call may ask for (the native layer's bound, 4096): far above any
# core count, low enough that a typo (threads=10**9) is an error.
MAX_THREADS: int = int(_native.MAX_THREADS)

# Offsets are uint64 natively but must also fit an int64 (numpy indexing, Arrow).
_MAX_OFFSET = 2**63 - 1


def _type_name(obj: Any) -> str:
    return type(obj).__name__


def as_bytes(data: Any, name: str) -> BytesLike:
    """`data` as a contiguous bytes-like object; InvalidTypeError naming `name` otherwise.

    Accepted: bytes, bytearray, any buffer (memoryview, array.array, ...; a strided one
    is copied) and uint8 numpy arrays (copied when not C-contiguous).
    """
    if isinstance(data, (bytes, bytearray)):
        return data
    if isinstance(data, np.ndarray):
        if data.dtype != np.uint8:
            raise InvalidTypeError(
                f"{name} must be bytes-like or a uint8 array, got an array of dtype {data.dtype}"
            )
        return np.ascontiguousarray(data).reshape(-1).data
    if isinstance(data, str):
        raise InvalidTypeError(f"{name} must be bytes-like, not str (encode it, or bytes.fromhex for hex)")
    try:
        view = memoryview(data)
    except TypeError:
        raise InvalidTypeError(
            f"{name} must be bytes-like (bytes, bytearray, memoryview, uint8 array), "
            f"got {_type_name(data)}"
        ) from None
    if not view.c_contiguous:
        view = memoryview(view.tobytes())
    return view.cast("B") if view.format != "B" or view.ndim != 1 else view


def as_fixed_bytes(data: Any, length: int, name: str) -> BytesLike:
    """as_bytes, and the length must be exactly `length` (InvalidArgumentError naming it)."""
    view = as_bytes(data, name)
    if len(view) != length:
        raise InvalidArgumentError(f"{name} must be {length} bytes, got {len(view)}")
    return view


def _is_arrow(obj: Any) -> bool:
    # pyarrow is imported only when an Arrow object is actually given.
    return type(obj).__module__.split(".")[0] == "pyarrow"


def _check_offsets(offsets: Any, buffer_len: int, name: str) -> np.ndarray:
    """N + 1 offsets as a read-only C-contiguous uint64 array, or an error naming `name`."""
    if isinstance(offsets, (list, tuple)):
        for i, value in enumerate(offsets):
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
                raise InvalidTypeError(f"{name}[{i}] must be an int, got {_type_name(value)}")
            if not 0 <= value <= _MAX_OFFSET:
                raise OutOfRangeError(f"{name}[{i}] must be in 0..2**63-1, got {value}")
        array = np.asarray(offsets, dtype=np.int64) if offsets else np.zeros(0, np.int64)
    elif isinstance(offsets, np.ndarray):
        array = offsets
    else:
        raise InvalidTypeError(
            f"{name} must be a 1-D integer array or a list of ints, got {_type_name(offsets)}"
        )
    if array.dtype.kind not in "iu":
        raise InvalidTypeError(f"{name} must be integers, got dtype {array.dtype}")
    if array.ndim != 1 or array.shape[0] < 1:
        raise InvalidArgumentError(
            f"{name} must be 1-D with N + 1 >= 1 entries (item i is buffer[offsets[i]:offsets[i + 1]]), "
            f"got shape {array.shape}"
        )
    if array.dtype.kind == "i" and array.size and int(array.min()) < 0:
        bad = int(np.flatnonzero(array < 0)[0])
        raise OutOfRangeError(f"{name}[{bad}] must not be negative, got {int(array[bad])}")
    if array.dtype == np.uint64 and array.size and int(array.max()) > _MAX_OFFSET:
        bad = int(np.flatnonzero(array > _MAX_OFFSET)[0])
        raise OutOfRangeError(f"{name}[{bad}] must be in 0..2**63-1, got {int(array[bad])}")
    wide = np.ascontiguousarray(array, dtype=np.uint64)
    steps = wide[1:] < wide[:-1]
    if steps.any():
        bad = int(np.flatnonzero(steps)[0])
        raise MalformedInputError(
            f"{name} must be non-decreasing: {name}[{bad + 1}] = {int(wide[bad + 1])} < "
            f"{name}[{bad}] = {int(wide[bad])}"
        )
    if int(wide[-1]) > buffer_len:
        raise OutOfRangeError(
            f"{name} run past the end of the buffer: {name}[{wide.shape[0] - 1}] = {int(wide[-1])} "
            f"> {buffer_len} bytes"
        )
    if wide is array or wide.base is not None:
        wide = wide.copy()  # never share memory the caller may change after validation
    wide.flags.writeable = False
    return wide


class Packed:
    """Many byte strings in one buffer: item i is ``buffer[offsets[i]:offsets[i + 1]]``.

    The layout of Apache Arrow's Binary arrays, said explicitly: ``offsets`` has N + 1
    non-negative, non-decreasing integers, the last at most ``len(buffer)`` (they need
    not start at 0). Validated once, here; the buffer is not copied (a strided or
    Fortran-ordered one is). The offsets are copied into a read-only uint64 array.

    ``Packed.from_arrow(array)`` wraps a pyarrow Binary / LargeBinary array (its data
    and offsets buffers) or a FixedSizeBinary array (its rows) without copying data.

    Every function of ledger_core that takes many byte strings takes a Packed.
    """

    __slots__ = ("_buffer", "_offsets", "_rows")

    def __init__(self, buffer: Any, offsets: Any) -> None:
        self._buffer: Any = as_bytes(buffer, "buffer")
        self._offsets: np.ndarray = _check_offsets(offsets, len(self._buffer), "offsets")
        self._rows: Optional[np.ndarray] = None

    @classmethod
    def _of_rows(cls, rows: np.ndarray) -> "Packed":
        """A Packed over the rows of a C-contiguous (N, k) uint8 array (no copy)."""
        obj = cls.__new__(cls)
        obj._rows = rows
        obj._buffer = rows.reshape(-1).data
        obj._offsets = np.arange(rows.shape[0] + 1, dtype=np.uint64) * np.uint64(rows.shape[1])
        obj._offsets.flags.writeable = False
        return obj

    @classmethod
    def from_arrow(cls, array: Any) -> "Packed":
        """Wrap a pyarrow Binary, LargeBinary or FixedSizeBinary array (or a one-chunk
        ChunkedArray of one) without copying its data; ``array.offset`` (a slice) is
        honoured. Arrays with nulls are refused (the error names the first null)."""
        import pyarrow as pa

        if isinstance(array, pa.ChunkedArray):
            if array.num_chunks != 1:
                raise InvalidArgumentError(
                    f"array is a ChunkedArray of {array.num_chunks} chunks: pass each chunk "
                    "(array.chunks) or array.combine_chunks()"
                )
            array = array.chunk(0)
        if not isinstance(array, pa.Array):
            raise InvalidTypeError(f"array must be a pyarrow Array, got {_type_name(array)}")
        kind = array.type
        if not (pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_fixed_size_binary(kind)):
            hint = " (cast it without a copy: array.cast(pa.binary()))" if pa.types.is_string(kind) or pa.types.is_large_string(kind) else ""
            raise InvalidTypeError(
                f"array must be a pyarrow binary, large_binary or fixed_size_binary array, got {kind}{hint}"
            )
        if array.null_count:
            nulls = np.asarray(array.is_null().to_numpy(zero_copy_only=False))
            first = int(np.flatnonzero(nulls)[0])
            raise InvalidArgumentError(
                f"array[{first}] is null ({array.null_count} nulls): fill or drop them first "
                "(pyarrow.compute.drop_null)"
            )
        count, start = len(array), array.offset
        buffers = array.buffers()
        if pa.types.is_fixed_size_binary(kind):
            width = kind.byte_width
            data = buffers[1]
            flat = np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8)
            rows = flat[start * width : (start + count) * width].reshape(count, width)
            return cls._of_rows(rows)
        offset_type = np.int64 if pa.types.is_large_binary(kind) else np.int32
        offsets = np.frombuffer(buffers[1], offset_type)[start : start + count + 1] if buffers[1] is not None else np.zeros(1, offset_type)
        data = buffers[2]
        obj = cls.__new__(cls)
        obj._buffer = memoryview(data) if data is not None else b""
        obj._offsets = _check_offsets(offsets, len(obj._buffer), "array offsets")
        obj._rows = None
        return obj

    @property
    def buffer(self) -> Any:
        """The bytes the items are cut from (a bytes-like object, not copied)."""
        return self._buffer

    @property
    def offsets(self) -> np.ndarray:
        """The N + 1 offsets, a read-only uint64 array."""
        return self._offsets

    def __len__(self) -> int:
        return int(self._offsets.shape[0]) - 1

    def __getitem__(self, index: int) -> bytes:
        count = len(self)
        i = operator.index(index)
        if not -count <= i < count:
            raise OutOfRangeError(f"index {index} out of range for {count} items")
        i %= count
        return bytes(memoryview(self._buffer)[int(self._offsets[i]) : int(self._offsets[i + 1])])

    def __repr__(self) -> str:
        return f"Packed({len(self)} items, {len(self._buffer)} bytes)"


# ("fixed", rows) or ("var", buffer, offsets): callers branch on the first element.
Items = Tuple[Any, ...]

_ITEMS_FORMS = "a 2-D uint8 array (N, k), a Packed, a pyarrow binary array or a sequence of bytes-like items"


def as_items(items: Any, name: str) -> Items:
    """Normalise "many byte strings" to ("fixed", rows) or ("var", buffer, uint64 offsets).

    Accepted: a 2-D uint8 array (N, k); a :class:`Packed`; a pyarrow Binary /
    LargeBinary / FixedSizeBinary array; any other sequence (list, tuple, ...) of
    bytes-like items. A tuple is always a sequence of items.
    """
    if type(items) is list:
        return _var_of_sequence(items, name)
    if isinstance(items, Packed):
        return ("fixed", items._rows) if items._rows is not None else ("var", items._buffer, items._offsets)
    if isinstance(items, np.ndarray):
        if items.dtype == object and items.ndim == 1:
            return _var_of_sequence(list(items), name)
        if items.dtype.kind == "S":
            raise InvalidTypeError(
                f"{name} must not be a numpy bytes (dtype {items.dtype}) array: numpy drops the trailing "
                "NUL bytes of its items; pass a list of bytes, a 2-D uint8 array or a Packed"
            )
        if items.dtype != np.uint8:
            raise InvalidTypeError(f"{name} as an array must be 2-D uint8 (N, k), got dtype {items.dtype}")
        if items.ndim != 2:
            raise InvalidArgumentError(f"{name} as an array must be 2-D uint8 (N, k), got shape {items.shape}")
        return ("fixed", np.ascontiguousarray(items))
    if _is_arrow(items):
        return as_items(Packed.from_arrow(items), name)
    return _var_of_sequence(as_sequence(items, name), name)


def as_sequence(items: Any, name: str) -> List[Any]:
    """`items` (any iterable but a single bytes-like, str or number) as a list."""
    if items is None:
        raise InvalidTypeError(f"{name} must be {_ITEMS_FORMS}, got None")
    if isinstance(items, (bytes, bytearray, memoryview, str, int, float)):
        raise InvalidTypeError(f"{name} must be {_ITEMS_FORMS}, not a single {_type_name(items)}")
    try:
        return list(items)
    except TypeError:
        raise InvalidTypeError(f"{name} must be {_ITEMS_FORMS}, got {_type_name(items)}") from None


def _var_of_sequence(seq: List[Any], name: str) -> Items:
    views = [item if type(item) is bytes else as_bytes(item, f"{name}[{i}]") for i, item in enumerate(seq)]
    offsets = np.zeros(len(views) + 1, dtype=np.uint64)
    if views:
        np.cumsum(np.fromiter(map(len, views), dtype=np.uint64, count=len(views)), out=offsets[1:])
    return ("var", b"".join(views), offsets)


def item_count(items: Items) -> int:
    """How many items a normalised ("fixed"/"var") value holds."""
    return int(items[1].shape[0]) if items[0] == "fixed" else int(items[2].shape[0]) - 1


def rows_and_bad_items(array: Any, width: int, name: str) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Items that should be `width` bytes each, as an (N, width) C-contiguous uint8 array.

    A 2-D uint8 array must have `width` columns and a numpy bytes array (what
    ``np.array(list_of_bytes)`` makes) an itemsize of `width` (its raw buffer is read:
    numpy drops trailing NULs of its items); otherwise InvalidArgumentError naming
    `name`. Other forms (sequences, Packed, Arrow) may hold items of another length:
    their rows are zero and the second value is the bool mask of those items (None
    when every item has the right length).
    """
    if isinstance(array, np.ndarray) and array.dtype.kind == "S":
        if array.dtype.itemsize != width or array.ndim != 1:
            raise InvalidArgumentError(
                f"{name} as a numpy bytes array must be 1-D of dtype S{width}, got {array.dtype} "
                f"with shape {array.shape}"
            )
        rows = np.ascontiguousarray(array).view(np.uint8).reshape(array.shape[0], width)
        return rows, None
    if isinstance(array, np.ndarray) and array.dtype == np.uint8:
        if array.ndim != 2 or array.shape[1] != width:
            raise InvalidArgumentError(f"{name} must have shape (N, {width}), got {array.shape}")
        return np.ascontiguousarray(array), None
    items = as_items(array, name)
    if items[0] == "fixed":
        rows = items[1]
        if rows.shape[1] == width:
            return rows, None
        bad = np.ones(rows.shape[0], dtype=bool)
        return np.zeros((rows.shape[0], width), np.uint8), bad
    _, buffer, offsets = items
    count = offsets.shape[0] - 1
    lengths = np.diff(offsets)
    bad = lengths != width
    flat = np.frombuffer(buffer, np.uint8)
    if not bad.any():
        start = int(offsets[0]) if count else 0
        return np.ascontiguousarray(flat[start : start + count * width].reshape(count, width)), None
    rows = np.zeros((count, width), np.uint8)
    good = np.flatnonzero(~bad)
    if good.size:
        index = offsets[:-1][good].astype(np.int64)[:, None] + np.arange(width, dtype=np.int64)
        rows[good] = flat[index]
    return rows, bad


def as_rows(array: Any, width: int, name: str) -> np.ndarray:
    """An (N, width) C-contiguous uint8 array (rows_and_bad_items), every item exactly
    `width` bytes: InvalidArgumentError naming the first other item."""
    rows, bad = rows_and_bad_items(array, width, name)
    if bad is not None:
        first = int(np.flatnonzero(bad)[0])
        raise InvalidArgumentError(f"{name}[{first}] must be {width} bytes, got {_item_len(array, first, name)}")
    return rows


def _item_len(array: Any, index: int, name: str) -> int:
    items = as_items(array, name)
    if items[0] == "fixed":
        return int(items[1].shape[1])
    return int(items[2][index + 1] - items[2][index])


def resolve_threads(threads: Any, name: str = "threads") -> int:
    """None -> 0 (all cores); an int in 1..MAX_THREADS as is; anything else raises."""
    if threads is None:
        return 0
    if isinstance(threads, (bool, np.bool_)) or not isinstance(threads, (int, np.integer)):
        raise InvalidTypeError(f"{name} must be None (all cores) or an int in 1..{MAX_THREADS}, got {_type_name(threads)}")
    if not 1 <= threads <= MAX_THREADS:
        raise InvalidArgumentError(f"{name} must be None (all cores) or an int in 1..{MAX_THREADS}, got {threads}")
    return int(threads)

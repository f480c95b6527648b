"""ledger_core.Packed and the one rule for "many byte strings" (_buffers.as_items): the
layout is said by type (2-D uint8 array, Packed, Arrow binary array, or a sequence of
items), never guessed from a tuple's shape; offsets are validated once; Arrow arrays
are wrapped without copying their data."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import ledger_core
from ledger_core import (
    InvalidArgumentError,
    InvalidTypeError,
    LedgerError,
    MalformedInputError,
    OutOfRangeError,
    Packed,
    hashing,
)
from ledger_core._buffers import as_items, as_rows

pa = pytest.importorskip("pyarrow")


def items_of(normalised):
    """The items a normalised ("fixed", rows) / ("var", buffer, offsets) value holds."""
    if normalised[0] == "fixed":
        return [row.tobytes() for row in normalised[1]]
    _, buffer, offsets = normalised
    data = bytes(buffer)
    return [data[int(offsets[i]) : int(offsets[i + 1])] for i in range(len(offsets) - 1)]


# --- a tuple is a sequence of items -------------------------------------------------------


def test_tuple_of_two_arrays_is_two_items():
    # Issue 12 item 2: MerkleTree().extend((A, B)) appended b"\x00" and b"\x01\x02" and
    # blake3_many((A, B)) hashed the slices; every caller goes through as_items.
    a = np.frombuffer(b"\x00\x01\x02", np.uint8)
    b = np.frombuffer(b"\x00\x01\x03", np.uint8)
    assert items_of(as_items((a, b), "items")) == [b"\x00\x01\x02", b"\x00\x01\x03"]
    assert items_of(as_items([a, b], "items")) == [b"\x00\x01\x02", b"\x00\x01\x03"]
    assert items_of(as_items((b"abcdef", b"\x00\x02"), "items")) == [b"abcdef", b"\x00\x02"]
    assert items_of(as_items(Packed(a, b), "items")) == [b"\x00", b"\x01\x02"]


def test_tuple_of_buffer_and_int_offsets_is_refused_as_items():
    # (buffer, [offsets]) used to be the packed form; now its second item is not bytes-like.
    with pytest.raises(InvalidTypeError, match=r"items\[1\]"):
        as_items((b"abcdef", [0, 2, 6]), "items")
    with pytest.raises(InvalidTypeError, match=r"items\[1\]"):
        as_items((b"abcdef", np.array([0, 2, 6], np.uint64)), "items")


def test_merkle_extend_of_a_tuple_appends_two_leaves():
    from ledger_core import merkle

    a = np.frombuffer(b"\x00\x01\x02", np.uint8)
    b = np.frombuffer(b"\x00\x01\x03", np.uint8)
    tree, reference = merkle.MerkleTree(), merkle.MerkleTree()
    tree.extend((a, b))
    reference.append(a.tobytes())
    reference.append(b.tobytes())
    assert tree.size == 2 and tree.root() == reference.root()


# --- Packed -------------------------------------------------------------------------------


def test_packed_items_and_attributes():
    packed = Packed(b"xxabcdef", [2, 4, 4, 8])
    assert len(packed) == 3
    assert [packed[i] for i in range(3)] == [b"ab", b"", b"cdef"]
    assert packed[-1] == b"cdef"
    assert packed.offsets.dtype == np.uint64 and packed.offsets.tolist() == [2, 4, 4, 8]
    assert not packed.offsets.flags.writeable
    assert bytes(packed.buffer) == b"xxabcdef"
    assert "3 items" in repr(packed)
    with pytest.raises(OutOfRangeError):
        packed[3]
    assert len(Packed(b"", [0])) == 0
    assert hashing.blake3_many(Packed(b"abc", [3])).shape == (0, 32)


def test_packed_copies_the_offsets_and_keeps_the_buffer():
    buffer = bytearray(b"abcdef")
    offsets = np.array([0, 3, 6], np.uint64)
    packed = Packed(buffer, offsets)
    offsets[1] = 9  # changing the caller's offsets after validation changes nothing
    assert packed[0] == b"abc"
    buffer[0:1] = b"z"  # the buffer is not copied
    assert packed[0] == b"zbc"


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.int32, np.uint32, np.int64, np.uint64])
def test_packed_offsets_of_any_integer_dtype(dtype):
    packed = Packed(b"abcdef", np.array([0, 1, 6], dtype))
    assert [packed[0], packed[1]] == [b"a", b"bcdef"]


def test_packed_decreasing_offsets_raise():
    # Issue 12 item 3: sha256_many hashed b"" per item for these.
    for buffer, offsets in ((b"abcdef", [4, 2, 0]), (b"", [1, 0]), (b"abc", [0, 2, 1, 3])):
        with pytest.raises(MalformedInputError, match=r"offsets.*non-decreasing"):
            Packed(buffer, offsets)
        with pytest.raises(MalformedInputError, match="offsets"):
            Packed(buffer, np.array(offsets, np.int64))
        with pytest.raises(MalformedInputError, match="offsets"):
            hashing.sha256_many(Packed(buffer, offsets))


@pytest.mark.parametrize(
    "offsets, error, pattern",
    [
        ([0, 2**63], OutOfRangeError, r"offsets\[1\]"),
        (np.array([0, 2**63], np.uint64), OutOfRangeError, r"offsets\[1\]"),
        ([0, 2**64], OutOfRangeError, r"offsets\[1\]"),
        ([0, -1], OutOfRangeError, r"offsets\[1\]"),
        (np.array([0, -1], np.int64), OutOfRangeError, r"offsets\[1\].*negative"),
        ([0, 1.0], InvalidTypeError, r"offsets\[1\].*float"),
        (np.array([0.0, 1.0]), InvalidTypeError, r"offsets.*float64"),
        ([0, True], InvalidTypeError, r"offsets\[1\].*bool"),
        (np.array([False, True]), InvalidTypeError, r"offsets.*bool"),
        ([], InvalidArgumentError, r"offsets.*N \+ 1"),
        (np.zeros((2, 2), np.int64), InvalidArgumentError, r"offsets.*1-D"),
        ([0, 7], OutOfRangeError, r"offsets.*past the end"),
        (None, InvalidTypeError, "offsets"),
        ("0,1", InvalidTypeError, "offsets"),
    ],
)
def test_packed_bad_offsets_name_offsets(offsets, error, pattern):
    with pytest.raises(error, match=pattern):
        Packed(b"abcdef", offsets)


def test_packed_bad_buffer_names_buffer():
    with pytest.raises(InvalidTypeError, match="buffer"):
        Packed("abc", [0, 3])
    with pytest.raises(InvalidTypeError, match="buffer"):
        Packed(None, [0])
    with pytest.raises(InvalidTypeError, match="buffer"):
        Packed(np.zeros(3, np.int32), [0, 3])


def test_packed_strided_buffer_is_copied_and_correct():
    data = np.frombuffer(b"aXbXcXdX", np.uint8)[::2]
    packed = Packed(data, [0, 2, 4])
    assert [packed[0], packed[1]] == [b"ab", b"cd"]


# --- Arrow --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [pa.binary(), pa.large_binary()])
def test_arrow_binary_wraps_data_without_copy_and_honours_the_slice_offset(kind):
    values = [b"alpha", b"", b"gamma-delta", b"\x00\x00", b"e" * 300]
    array = pa.array(values, type=kind)
    packed = Packed.from_arrow(array)
    assert [packed[i] for i in range(len(values))] == values
    data = array.buffers()[2]
    assert np.shares_memory(np.frombuffer(packed.buffer, np.uint8), np.frombuffer(data, np.uint8))
    sliced = Packed.from_arrow(array[2:4])
    assert [sliced[0], sliced[1]] == values[2:4]
    assert items_of(as_items(array[1:], "items")) == values[1:]
    assert np.array_equal(hashing.blake3_many(array[1:]), hashing.blake3_many(values[1:]))


def test_arrow_fixed_size_binary_is_a_row_view():
    rows = [bytes([i]) * 65 for i in range(10)]
    array = pa.array(rows, type=pa.binary(65))
    normalised = as_items(array[3:], "items")
    assert normalised[0] == "fixed" and normalised[1].shape == (7, 65)
    assert np.shares_memory(normalised[1], np.frombuffer(array.buffers()[1], np.uint8))
    assert items_of(normalised) == rows[3:]
    assert np.array_equal(as_rows(array, 65, "leaf_hashes"), np.frombuffer(b"".join(rows), np.uint8).reshape(10, 65))


def test_arrow_chunked_arrays():
    one = pa.chunked_array([pa.array([b"a", b"bc"])])
    assert items_of(as_items(one, "items")) == [b"a", b"bc"]
    two = pa.chunked_array([pa.array([b"a"]), pa.array([b"bc"])])
    with pytest.raises(InvalidArgumentError, match="2 chunks"):
        as_items(two, "items")


def test_arrow_nulls_are_refused_naming_the_first():
    array = pa.array([b"a", b"b", None, b"d", None])
    with pytest.raises(InvalidArgumentError, match=r"array\[2\] is null"):
        Packed.from_arrow(array)
    with pytest.raises(InvalidArgumentError, match=r"array\[0\] is null"):
        hashing.blake3_many(array[2:])
    with pytest.raises(InvalidArgumentError, match=r"array\[1\] is null"):
        Packed.from_arrow(pa.array([b"aa", None], type=pa.binary(2)))
    assert hashing.blake3_many(array[:2]).shape == (2, 32)


def test_arrow_other_types_are_refused():
    with pytest.raises(InvalidTypeError, match=r"string.*cast"):
        Packed.from_arrow(pa.array(["text"]))
    with pytest.raises(InvalidTypeError, match="int64"):
        hashing.blake3_many(pa.array([1, 2]))
    with pytest.raises(InvalidTypeError, match="array"):
        Packed.from_arrow([b"a"])
    # Cast without a copy, as the message says.
    strings = pa.array(["ab", "c"])
    assert items_of(as_items(strings.cast(pa.binary()), "items")) == [b"ab", b"c"]


def test_empty_arrow_arrays():
    for kind in (pa.binary(), pa.large_binary(), pa.binary(4)):
        assert hashing.blake3_many(pa.array([], type=kind)).shape == (0, 32)


def test_pyarrow_is_imported_only_when_an_arrow_array_is_given():
    code = (
        "import sys, numpy as np; import ledger_core; from ledger_core import hashing, ed25519;"
        "hashing.blake3_many([b'a', b'b']); hashing.blake3_many(ledger_core.Packed(b'ab', [0, 1, 2]));"
        "hashing.sha256_many(np.zeros((2, 3), np.uint8));"
        "print('pyarrow' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


# --- other forms --------------------------------------------------------------------------


def test_numpy_bytes_arrays_are_refused_as_messages():
    # numpy strips the trailing NULs of S items; for messages that cannot be undone.
    with pytest.raises(InvalidTypeError, match=r"items.*NUL"):
        as_items(np.array([b"a\x00", b"bc"]), "items")


def test_object_arrays_and_iterables_are_sequences_of_items():
    assert items_of(as_items(np.array([b"a", b"bc\x00"], dtype=object), "items")) == [b"a", b"bc\x00"]
    assert items_of(as_items(iter([b"a", bytearray(b"b")]), "items")) == [b"a", b"b"]
    assert items_of(as_items((x for x in [b"q"]), "items")) == [b"q"]


@pytest.mark.parametrize("bad", [None, b"abc", "abc", 5, 1.5, memoryview(b"ab")])
def test_a_single_value_is_not_a_sequence_of_items(bad):
    with pytest.raises(InvalidTypeError, match="items"):
        as_items(bad, "items")


def test_every_error_here_is_a_ledger_error():
    for call in (lambda: Packed(b"", [1, 0]), lambda: as_items(None, "items"), lambda: Packed(b"", [0.5])):
        with pytest.raises(LedgerError):
            call()


def test_public_names():
    assert ledger_core.Packed is Packed
    assert ledger_core.MAX_THREADS == 4096
    assert {"Packed", "MAX_THREADS", "InvalidTypeError"} <= set(ledger_core.__all__)
    assert issubclass(ledger_core.InvalidTypeError, TypeError)
    assert issubclass(ledger_core.InvalidTypeError, LedgerError)

"""The bad-input table (issue 7 item 1, issue 12 item 8): every public function of
ledger_core.hashing, ledger_core.ed25519, ledger_core.Packed and the top level is fed a
table of bad arguments -- wrong type, dtype, shape, length, None, negative and huge
ints, bad offsets, bad thread counts -- and must raise a LedgerError that is also the
builtin a caller would catch (TypeError for a wrong type, ValueError for a wrong value),
with a message that names the argument. Strided and Fortran-ordered buffers are not
errors: the facade copies them, and the result must be the right one.

Verify functions follow the verdict rule instead: bad *content* (a key or signature of
the wrong length) is a verdict (False / BAD_LENGTH), not an exception."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Tuple, Type

import numpy as np
import pytest

import ledger_core
from ledger_core import (
    MAX_THREADS,
    InvalidArgumentError,
    InvalidTypeError,
    LedgerError,
    MalformedInputError,
    OutOfRangeError,
    Packed,
    ed25519,
    hashing,
)
from ledger_core.ed25519 import Reason
from ledger_core.hashing import Blake3Hasher, Parts

KEY = ed25519.SigningKey.from_seed(bytes(range(32)))
MSG = b"invoice 1"
SIG = KEY.sign(MSG)
PK = KEY.public_key


# --- the public functions, each with good arguments by name ---------------------------------


def _hasher_update(data: Any) -> Any:
    return Blake3Hasher().update(data)


def _hasher_init(data: Any = None, key: Any = None) -> Any:
    return Blake3Hasher(data, key=key)


def _hasher_digest(length: Any) -> Any:
    return Blake3Hasher(b"x").digest(length)


def _hasher_hexdigest(length: Any) -> Any:
    return Blake3Hasher(b"x").hexdigest(length)


def _hasher_derive_key(context: Any) -> Any:
    return Blake3Hasher.derive_key(context)


def _parts(parts: Any) -> Any:
    return hashing.sha512_many([Parts(*parts)])


def _sign(message: Any) -> Any:
    return KEY.sign(message)


def _packed(buffer: Any = b"abcdef", offsets: Any = (0, 2, 6)) -> Any:
    return Packed(buffer, list(offsets) if isinstance(offsets, tuple) else offsets)


FUNCTIONS: Dict[str, Tuple[Callable[..., Any], Dict[str, Any]]] = {
    "hashing.sha256": (hashing.sha256, {"data": b"abc"}),
    "hashing.sha512": (hashing.sha512, {"data": b"abc"}),
    "hashing.blake3": (hashing.blake3, {"data": b"abc", "key": None, "length": 32}),
    "hashing.blake3_derive_key": (hashing.blake3_derive_key, {"context": "ctx", "material": b"m", "length": 32}),
    "hashing.sha256_many": (hashing.sha256_many, {"items": [b"ab", b"cd"], "threads": None}),
    "hashing.sha512_many": (hashing.sha512_many, {"items": [b"ab", b"c"], "threads": None}),
    "hashing.blake3_many": (hashing.blake3_many, {"items": [b"ab", b"c"], "key": None, "threads": None}),
    "hashing.Parts": (_parts, {"parts": (b"a", b"b")}),
    "Blake3Hasher": (_hasher_init, {"data": b"abc", "key": None}),
    "Blake3Hasher.update": (_hasher_update, {"data": b"abc"}),
    "Blake3Hasher.digest": (_hasher_digest, {"length": 32}),
    "Blake3Hasher.hexdigest": (_hasher_hexdigest, {"length": 32}),
    "Blake3Hasher.derive_key": (_hasher_derive_key, {"context": "ctx"}),
    "ed25519.verify": (ed25519.verify, {"public_key": PK, "message": MSG, "signature": SIG}),
    "ed25519.verify_detailed": (ed25519.verify_detailed, {"public_key": PK, "message": MSG, "signature": SIG}),
    "ed25519.verify_batch": (
        ed25519.verify_batch,
        {"public_keys": [PK, PK], "messages": [MSG, MSG], "signatures": [SIG, SIG], "threads": None},
    ),
    "ed25519.verify_batch_detailed": (
        ed25519.verify_batch_detailed,
        {"public_keys": [PK, PK], "messages": [MSG, MSG], "signatures": [SIG, SIG], "threads": None},
    ),
    "ed25519.SigningKey.from_seed": (ed25519.SigningKey.from_seed, {"seed": bytes(32)}),
    "ed25519.SigningKey.sign": (_sign, {"message": MSG}),
    "Packed": (_packed, {"buffer": b"abcdef", "offsets": (0, 2, 6)}),
    "Packed.from_arrow": (Packed.from_arrow, {"array": None}),  # good value set in the Arrow test
}

# --- the bad values, by kind of argument ----------------------------------------------------

T, V, R, M = InvalidTypeError, InvalidArgumentError, OutOfRangeError, MalformedInputError

NOT_BYTES: List[Tuple[Any, Type[LedgerError]]] = [
    (None, T), ("text", T), ("a" * 32, T), (12, T), (-1, T), (2**64, T), (1.5, T), (True, T),
    (np.zeros(4, np.int32), T), (np.zeros(4, np.float64), T), (np.array([b"ab"]), T), ([1, 2], T),
    (object(), T),
]
NOT_ITEMS: List[Tuple[Any, Type[LedgerError]]] = [
    (None, T), (b"abc", T), ("abc", T), (5, T), (-1, T), (2**64, T), (1.5, T), (memoryview(b"ab"), T),
    (np.zeros((2, 2), np.int32), T), (np.zeros((2, 2), np.float32), T),
    (np.zeros(4, np.uint8), V), (np.zeros((2, 2, 2), np.uint8), V), (object(), T),
]
BAD_THREADS: List[Tuple[Any, Type[LedgerError]]] = [
    (0, V), (-1, V), (10**9, V), (2**64, V), (-(2**64), V), (MAX_THREADS + 1, V),
    (True, T), (False, T), (1.5, T), ("2", T), (np.float64(2), T), ([2], T),
]
BAD_LENGTHS: List[Tuple[Any, Type[LedgerError]]] = [
    (-1, R), (2**64, R), (2**31 + 1, R), (-(2**64), R), (1.5, T), (32.0, T), (True, T), ("32", T), (None, T),
]
BAD_CONTEXTS: List[Tuple[Any, Type[LedgerError]]] = [
    (None, T), (b"ctx", T), (5, T), (["ctx"], T), ("lone \ud800 surrogate", V),
]
BAD_KEYS: List[Tuple[Any, Type[LedgerError]]] = [
    (b"short", V), (bytes(33), V), (b"", V), ("k" * 32, T), (12, T), (np.zeros(32, np.int8), T),
]

TABLE: List[Tuple[str, str, List[Tuple[Any, Type[LedgerError]]]]] = [
    ("hashing.sha256", "data", NOT_BYTES),
    ("hashing.sha512", "data", NOT_BYTES),
    ("hashing.blake3", "data", NOT_BYTES),
    ("hashing.blake3", "key", BAD_KEYS),
    ("hashing.blake3", "length", BAD_LENGTHS),
    ("hashing.blake3_derive_key", "context", BAD_CONTEXTS),
    ("hashing.blake3_derive_key", "material", NOT_BYTES),
    ("hashing.blake3_derive_key", "length", BAD_LENGTHS),
    ("hashing.sha256_many", "items", NOT_ITEMS + [([b"ab", b"abc"], V)]),
    ("hashing.sha256_many", "threads", BAD_THREADS),
    ("hashing.sha512_many", "items", NOT_ITEMS),
    ("hashing.sha512_many", "threads", BAD_THREADS),
    ("hashing.blake3_many", "items", NOT_ITEMS),
    ("hashing.blake3_many", "key", BAD_KEYS),
    ("hashing.blake3_many", "threads", BAD_THREADS),
    ("hashing.Parts", "parts", [((), V), ((b"a", b"b", b"c", b"d"), V)]),
    ("Blake3Hasher", "data", [v for v in NOT_BYTES if v[0] is not None]),
    ("Blake3Hasher", "key", BAD_KEYS),
    ("Blake3Hasher.update", "data", NOT_BYTES),
    ("Blake3Hasher.digest", "length", BAD_LENGTHS),
    ("Blake3Hasher.hexdigest", "length", BAD_LENGTHS),
    ("Blake3Hasher.derive_key", "context", BAD_CONTEXTS),
    ("ed25519.verify", "public_key", NOT_BYTES),
    ("ed25519.verify", "message", NOT_BYTES),
    ("ed25519.verify", "signature", NOT_BYTES),
    ("ed25519.verify_detailed", "public_key", NOT_BYTES),
    ("ed25519.verify_detailed", "message", NOT_BYTES),
    ("ed25519.verify_detailed", "signature", NOT_BYTES),
    ("ed25519.verify_batch", "public_keys",
     NOT_ITEMS + [(np.zeros((2, 31), np.uint8), V), (np.array([b"k" * 33] * 2), V), (np.zeros((2, 32), np.int8), T)]),
    ("ed25519.verify_batch", "messages", NOT_ITEMS + [([MSG], V), ([MSG] * 3, V), (np.array([MSG, MSG]), T)]),
    ("ed25519.verify_batch", "signatures",
     NOT_ITEMS + [(np.zeros((2, 63), np.uint8), V), (np.array([b"s" * 65] * 2), V), ([SIG], V)]),
    ("ed25519.verify_batch", "threads", BAD_THREADS),
    ("ed25519.verify_batch_detailed", "public_keys", NOT_ITEMS + [(np.zeros((2, 33), np.uint8), V)]),
    ("ed25519.verify_batch_detailed", "messages", NOT_ITEMS),
    ("ed25519.verify_batch_detailed", "signatures", NOT_ITEMS + [(np.zeros((3, 64), np.uint8), V)]),
    ("ed25519.verify_batch_detailed", "threads", BAD_THREADS),
    ("ed25519.SigningKey.from_seed", "seed", NOT_BYTES + [(bytes(31), V), (bytes(33), V)]),
    ("ed25519.SigningKey.sign", "message", NOT_BYTES),
    ("Packed", "buffer", [v for v in NOT_BYTES if not isinstance(v[0], list)]),
    ("Packed", "offsets", [
        ([4, 2, 0], M), ([0, 3, 2], M), (np.array([6, 0], np.uint64), M), ([0, 7], R), (np.array([0, 99]), R),
        ([0, -1], R), (np.array([0, -1]), R), ([0, 2**63], R), (np.array([0, 2**63], np.uint64), R),
        ([0, 2**64], R), ([0, 1.5], T), (np.array([0.0, 1.0]), T), ([0, True], T), (np.array([0, 1], bool), T),
        ([], V), (np.zeros((2, 2), np.int64), V), (None, T), ("0,2", T), (b"\x00\x02", T),
    ]),
    ("Packed.from_arrow", "array", [(None, T), ([b"a"], T), (np.zeros((2, 2), np.uint8), T), (b"ab", T)]),
]

CASES = [
    pytest.param(function, arg, value, expected, id=f"{function}-{arg}-{index}")
    for function, arg, values in TABLE
    for index, (value, expected) in enumerate(values)
]


def _builtin_of(expected: Type[LedgerError]) -> type:
    return TypeError if issubclass(expected, TypeError) else ValueError


@pytest.mark.parametrize("function, arg, value, expected", CASES)
def test_bad_argument_raises_a_ledger_error_naming_it(function, arg, value, expected):
    fn, good = FUNCTIONS[function]
    kwargs = dict(good)
    kwargs[arg] = value
    with pytest.raises(LedgerError) as caught:
        fn(**kwargs)
    assert isinstance(caught.value, expected), f"{type(caught.value).__name__}: {caught.value}"
    assert isinstance(caught.value, _builtin_of(expected))
    name = {"parts": "Parts", "array": "array"}.get(arg, arg)
    assert name in str(caught.value), f"message does not name {name}: {caught.value}"


def test_the_table_covers_every_public_function():
    public = {f"hashing.{n}" for n in hashing.__all__ if callable(getattr(hashing, n))}
    public |= {f"ed25519.{n}" for n in ed25519.__all__ if callable(getattr(ed25519, n))}
    # Functions without arguments (nothing to get wrong) and classes covered by methods.
    argumentless = {"ed25519.key_cache_stats", "ed25519.clear_key_cache", "ed25519.SigningKey", "ed25519.Reason",
                    "hashing.Blake3Hasher"}
    covered = {name for name, _, _ in TABLE} | {"hashing.Blake3Hasher"} | {"hashing.Parts"}
    assert public - argumentless - covered == set()
    assert {"Blake3Hasher.update", "Blake3Hasher.digest", "Blake3Hasher.derive_key", "ed25519.SigningKey.sign",
            "ed25519.SigningKey.from_seed", "Packed", "Packed.from_arrow"} <= covered
    # The top level: features() takes no argument, Packed is in the table, the rest are
    # the error classes.
    top = {n for n in ledger_core.__all__ if callable(getattr(ledger_core, n))}
    errors = {n for n in top if isinstance(getattr(ledger_core, n), type) and issubclass(getattr(ledger_core, n), LedgerError)}
    # The ledger's names have their own table (tests/test_api_errors_ledger.py).
    from test_api_errors_ledger import COVERED as LEDGER_COVERED

    assert top - errors - set(LEDGER_COVERED) == {"features", "Packed"}
    assert isinstance(ledger_core.features(), dict)


def test_items_naming_the_bad_item():
    for fn, kwargs, pattern in (
        (hashing.blake3_many, {"items": [b"a", None]}, r"items\[1\]"),
        (hashing.sha256_many, {"items": (b"a", "b")}, r"items\[1\]"),
        (hashing.sha512_many, {"items": [b"a", b"b", (b"c",)]}, r"items\[2\]"),
        (hashing.sha512_many, {"items": [b"a", Parts(b"b"), 7]}, r"items\[2\]"),
        (ed25519.verify_batch, {"public_keys": [PK, None], "messages": [MSG] * 2, "signatures": [SIG] * 2},
         r"public_keys\[1\]"),
        (ed25519.verify_batch, {"public_keys": [PK] * 2, "messages": [MSG, 3], "signatures": [SIG] * 2},
         r"messages\[1\]"),
        (ed25519.verify_batch, {"public_keys": [PK] * 2, "messages": [MSG] * 2, "signatures": ["s" * 64, SIG]},
         r"signatures\[0\]"),
    ):
        with pytest.raises(InvalidTypeError, match=pattern):
            fn(**kwargs)
    with pytest.raises(InvalidTypeError, match=r"parts\[1\]"):
        Parts(b"a", None)


def test_arrow_arguments_of_the_wrong_kind():
    pa = pytest.importorskip("pyarrow")
    for value, expected, pattern in (
        (pa.array([1, 2]), InvalidTypeError, "int64"),
        (pa.array(["a"]), InvalidTypeError, "string"),
        (pa.array([b"a", None]), InvalidArgumentError, r"array\[1\] is null"),
        (pa.chunked_array([pa.array([b"a"]), pa.array([b"b"])]), InvalidArgumentError, "chunks"),
    ):
        for fn in (Packed.from_arrow, hashing.blake3_many, hashing.sha512_many):
            with pytest.raises(expected, match=pattern):
                fn(value)


# --- the verdict rule: bad content is a verdict, not an exception ---------------------------


@pytest.mark.parametrize("pk, sig", [(PK[:31], SIG), (PK + b"\x00", SIG), (PK, SIG[:63]), (PK, b""), (b"", b"")])
def test_wrong_lengths_are_verdicts(pk, sig):
    assert ed25519.verify(pk, MSG, sig) is False
    assert ed25519.verify_detailed(pk, MSG, sig) is Reason.BAD_LENGTH
    reasons = ed25519.verify_batch_detailed([pk, PK], [MSG, MSG], [sig, SIG])
    assert reasons.tolist() == [Reason.BAD_LENGTH, Reason.OK]
    assert ed25519.verify_batch([pk, PK], [MSG, MSG], [sig, SIG]).tolist() == [False, True]


# --- accepted: strided and Fortran-ordered buffers are copied, with the right result --------


def _strided(data: bytes) -> np.ndarray:
    doubled = np.zeros(2 * len(data), np.uint8)
    doubled[::2] = np.frombuffer(data, np.uint8)
    view = doubled[::2]
    assert not view.flags.c_contiguous or len(data) < 2
    return view


def _fortran(data: bytes, rows: int) -> np.ndarray:
    array = np.asfortranarray(np.frombuffer(data, np.uint8).reshape(rows, -1))
    assert not array.flags.c_contiguous
    return array


def test_strided_and_fortran_bytes_arguments_give_the_right_result():
    data = bytes(range(64))
    strided_view = memoryview(bytes(b for pair in zip(data, data) for b in pair))[::2]
    for form in (_strided(data), _fortran(data, 8), strided_view):
        assert hashing.sha256(form) == hashing.sha256(data)
        assert hashing.sha512(form) == hashing.sha512(data)
        assert hashing.blake3(form) == hashing.blake3(data)
        assert hashing.blake3(data, key=_strided(data[:32])) == hashing.blake3(data, key=data[:32])
        assert hashing.blake3_derive_key("ctx", form) == hashing.blake3_derive_key("ctx", data)
        assert Blake3Hasher().update(form).digest() == hashing.blake3(data)
        assert hashing.sha512_many([form, Parts(form, form)]).tolist() == hashing.sha512_many(
            [data, data * 2]).tolist()
    assert ed25519.verify(_strided(PK), _strided(MSG), _fortran(SIG, 8))
    assert ed25519.verify_detailed(_fortran(PK, 4), MSG, _strided(SIG)) is Reason.OK
    assert ed25519.SigningKey.from_seed(_strided(bytes(32))).public_key == ed25519.SigningKey.from_seed(
        bytes(32)).public_key
    assert KEY.sign(_strided(MSG)) == SIG
    assert memoryview(b"mm00")[::2].tobytes() == b"m0"
    assert ed25519.verify(PK, memoryview(b"mm00")[::2], SIG) is False  # issue 12 item 4's shape, copied


def test_strided_and_fortran_items_arguments_give_the_right_result():
    rows = np.random.default_rng(7).integers(0, 256, size=(12, 65), dtype=np.uint8)
    expected_b3 = hashing.blake3_many(rows)
    expected_256 = hashing.sha256_many(rows)
    wide = np.zeros((24, 65), np.uint8)
    wide[::2] = rows
    for form in (wide[::2], np.asfortranarray(rows), rows[:, :].T.copy().T):
        assert not form.flags.c_contiguous
        assert np.array_equal(hashing.blake3_many(form), expected_b3)
        assert np.array_equal(hashing.sha256_many(form), expected_256)
        assert np.array_equal(hashing.sha512_many(form), hashing.sha512_many([r.tobytes() for r in rows]))
        assert np.array_equal(hashing.blake3_many(Packed(form, np.arange(13) * 65)), expected_b3)
    keys = [ed25519.SigningKey.from_seed(bytes([i]) * 32) for i in range(6)]
    msgs = [b"m%d" % i for i in range(6)]
    pks = np.array([np.frombuffer(k.public_key, np.uint8) for k in keys])
    sigs = np.array([np.frombuffer(k.sign(m), np.uint8) for k, m in zip(keys, msgs)])
    msg_rows = np.array([np.frombuffer(m, np.uint8) for m in msgs])
    for p, m, s in (
        (np.asfortranarray(pks), np.asfortranarray(msg_rows), np.asfortranarray(sigs)),
        (np.repeat(pks, 2, axis=0)[::2], np.repeat(msg_rows, 2, axis=0)[::2], np.repeat(sigs, 2, axis=0)[::2]),
    ):
        assert not (p.flags.c_contiguous or m.flags.c_contiguous or s.flags.c_contiguous)
        assert ed25519.verify_batch(p, m, s).all()
        assert ed25519.verify_batch(p, [_strided(x) for x in msgs], s).all()

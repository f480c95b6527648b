"""Fuzz targets for the parsers (issue 12, "keep it found"): hypothesis, bounded so CI stays
fast (200 examples each, no deadline).

* proof JSON (proofs / merkle ``from_json``): random text, random bytes, random JSON values
  and mutations of valid proofs raise nothing but MalformedInputError; whatever parses
  writes back to JSON that parses to the same proof; every valid proof round-trips.
* checkpoint notes: ``Checkpoint.from_text``, ``checkpoint.verify`` and
  ``parse_verifier_key`` on random and mutated input raise only LedgerErrors; a mutated
  note that still verifies carries exactly the signed checkpoint.
"""

from __future__ import annotations

import json

from hypothesis import given, settings, strategies as st

from ledger_core import checkpoint, merkle, proofs
from ledger_core.checkpoint import Checkpoint
from ledger_core.errors import LedgerError, MalformedInputError, SignatureError

FUZZ = settings(max_examples=200, deadline=None)

hashes32 = st.binary(min_size=32, max_size=32)
json_counts = st.integers(0, 2**63 - 1)


@st.composite
def valid_proofs(draw):
    module = draw(st.sampled_from([proofs, merkle]))
    hasher = draw(st.sampled_from(["blake3", "sha256"]))
    path = draw(st.lists(hashes32, max_size=proofs.MAX_PROOF_LEN))
    a, b = draw(json_counts), draw(json_counts)
    if draw(st.booleans()):
        extras = {k: draw(st.none() | hashes32) for k in ("leaf_hash", "root")}
        return module.InclusionProof(hasher, a, b, path, **extras)
    extras = {k: draw(st.none() | hashes32) for k in ("root1", "root2")}
    return module.ConsistencyProof(hasher, a, b, path, **extras)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=70),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=8),
    max_leaves=30,
)

KEYS = ["type", "hasher", "index", "size", "size1", "size2", "hashes", "leaf_hash", "root", "root1", "root2"]


def parse_or_malformed(text):
    """from_json in both modules: a proof, or MalformedInputError; never anything else.
    What parses must write back to JSON that parses to the same proof."""
    results = []
    for module in (proofs, merkle):
        try:
            proof = module.from_json(text)
        except MalformedInputError:
            results.append(None)
            continue
        assert type(module.from_json(proof.to_json())) is type(proof)
        assert module.from_json(proof.to_json()) == proof
        results.append(proof.to_json())
    assert results[0] == results[1], "proofs and merkle parse differently"
    return results[0]


@FUZZ
@given(valid_proofs(), st.sampled_from([None, 2]))
def test_every_valid_proof_round_trips(proof, indent):
    text = proof.to_json(indent=indent)
    back = type(proof).from_json(text)
    assert back == proof and back.to_json() == proof.to_json()
    assert json.loads(text)["hashes"] == [h.hex() for h in proof.hashes]


@FUZZ
@given(st.text(max_size=300))
def test_random_text_is_a_proof_or_malformed(text):
    parse_or_malformed(text)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_are_a_proof_or_malformed(data):
    parse_or_malformed(data)


@FUZZ
@given(json_values)
def test_random_json_values_are_a_proof_or_malformed(value):
    parse_or_malformed(json.dumps(value))


@FUZZ
@given(valid_proofs(), st.data())
def test_proofs_with_a_replaced_or_extra_key_are_a_proof_or_malformed(proof, data):
    obj = json.loads(proof.to_json())
    for _ in range(data.draw(st.integers(1, 3), label="changes")):
        key = data.draw(st.sampled_from(KEYS + ["extra"]), label="key")
        action = data.draw(st.sampled_from(["replace", "delete"]), label="action")
        if action == "delete":
            obj.pop(key, None)
        else:
            obj[key] = data.draw(json_values | hashes32.map(bytes.hex) | json_counts, label="value")
    parse_or_malformed(json.dumps(obj))


def mutate(text: str, data) -> str:
    """A few character-level edits: delete, insert, replace, duplicate a slice."""
    chars = list(text)
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        where = data.draw(st.integers(0, len(chars)), label="where")
        kind = data.draw(st.sampled_from(["delete", "insert", "replace", "duplicate"]), label="kind")
        char = data.draw(st.characters() | st.sampled_from(list('{}[]",:0123456789abcdefABCDEF\n -.e\u2014+/=')),
                         label="char")
        if kind == "delete" and where < len(chars):
            del chars[where]
        elif kind == "insert":
            chars.insert(where, char)
        elif kind == "replace" and where < len(chars):
            chars[where] = char
        elif kind == "duplicate":
            end = data.draw(st.integers(where, min(len(chars), where + 40)), label="end")
            chars[where:where] = chars[where:end]
    return "".join(chars)


@FUZZ
@given(valid_proofs(), st.data())
def test_mutated_proof_json_is_a_proof_or_malformed(proof, data):
    parse_or_malformed(mutate(proof.to_json(), data))


# --- checkpoint notes ---------------------------------------------------------------------

SEED = bytes(range(32))
PUBLIC = checkpoint.public_key_of(SEED)
WITNESS_SEED = bytes(range(1, 33))
ORIGIN = "example.com/ledger/fuzz"
SIGNED = Checkpoint(ORIGIN, 1234, bytes(range(32)))
NOTE = checkpoint.sign(SIGNED, SEED)
COSIGNED = NOTE + checkpoint.sign(SIGNED, WITNESS_SEED, name="witness.example/w").split("\n\n")[1]
VKEY = checkpoint.verifier_key(ORIGIN, PUBLIC)


def verify_or_ledger_error(note, name=ORIGIN, origin=None):
    try:
        result = checkpoint.verify(note, PUBLIC, name, origin=origin)
    except (MalformedInputError, SignatureError):
        return None
    except LedgerError as exc:  # any other LedgerError is allowed, but say which in a failure
        raise AssertionError(f"unexpected {type(exc).__name__}: {exc}") from None
    # A note that still verifies can only differ in ignored parts (other signers' lines).
    assert result == SIGNED
    return result


@FUZZ
@given(st.data())
def test_mutated_notes_raise_only_ledger_errors(data):
    base = data.draw(st.sampled_from([NOTE, COSIGNED]), label="base")
    mutated = mutate(base, data)
    verify_or_ledger_error(mutated)
    verify_or_ledger_error(mutated.encode("utf-8", "surrogatepass"))


@FUZZ
@given(st.text(max_size=400), st.text(max_size=30))
def test_random_notes_and_names_raise_only_ledger_errors(text, name):
    try:
        checkpoint.verify(text, PUBLIC, name or ORIGIN)
    except LedgerError:
        pass
    else:
        raise AssertionError("a random note verified")


@FUZZ
@given(st.binary(max_size=300))
def test_random_note_bytes_raise_only_ledger_errors(data):
    try:
        checkpoint.verify(data, PUBLIC, ORIGIN)
    except LedgerError:
        pass
    else:
        raise AssertionError("random bytes verified")


@FUZZ
@given(st.data())
def test_mutated_checkpoint_texts_parse_or_raise_ledger_errors(data):
    text = mutate(SIGNED.to_text(), data)
    try:
        parsed = Checkpoint.from_text(text)
    except LedgerError:
        return
    assert parsed.to_text() == text  # what parses is canonical: it writes back the same text


@FUZZ
@given(st.text(max_size=300))
def test_random_checkpoint_texts_parse_or_raise_ledger_errors(text):
    try:
        parsed = Checkpoint.from_text(text)
    except LedgerError:
        return
    assert parsed.to_text() == text


@FUZZ
@given(st.data())
def test_mutated_and_random_verifier_keys_parse_or_raise_ledger_errors(data):
    vkey = data.draw(st.one_of(st.just(VKEY).map(lambda v: mutate(v, data)), st.text(max_size=120)), label="vkey")
    try:
        name, key = checkpoint.parse_verifier_key(vkey)
    except LedgerError:
        return
    assert checkpoint.verifier_key(name, key) == vkey

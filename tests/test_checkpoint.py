"""Signed checkpoints: C2SP tlog-checkpoint bodies in C2SP signed notes, Ed25519 by
PyNaCl. Round trips, the key ID of a published verifier key, strict parsing, every
tampering rejected, unknown signers ignored, and proofs checked against a checkpoint."""

from __future__ import annotations

import base64

import pytest
from nacl.signing import SigningKey

from ledger_core import checkpoint, merkle
from ledger_core.checkpoint import Checkpoint, SignatureError
from ledger_core.errors import InvalidArgumentError, InvalidTypeError, LedgerError, MalformedInputError

from conftest import load_vectors

TESSERA = load_vectors("rfc9162/rfc6962_reference_roots.json")["tessera_testdata_log"]
ORIGIN = "example.com/ledger/test"
SEED = bytes(range(32))
OTHER_SEED = bytes(range(1, 33))


def make_note(size: int = 3, root: bytes = b"\x07" * 32, seed: bytes = SEED, name: str = ORIGIN) -> str:
    return checkpoint.sign(Checkpoint(ORIGIN, size, root), seed, name=name)


def public(seed: bytes) -> bytes:
    return checkpoint.public_key_of(seed)


def test_sign_then_verify_round_trips():
    cp = Checkpoint(ORIGIN, 20852163, base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="))
    note = checkpoint.sign(cp, SEED)
    text, signature_line = note.split("\n\n")
    assert text + "\n" == cp.to_text() == f"{ORIGIN}\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    assert signature_line.startswith(f"\u2014 {ORIGIN} ") and signature_line.endswith("\n")
    raw = base64.b64decode(signature_line.split(" ")[2])
    assert raw[:4] == checkpoint.key_id(ORIGIN, public(SEED)) and len(raw) == 68
    assert checkpoint.verify(note, public(SEED), ORIGIN) == cp
    assert checkpoint.verify(note.encode(), public(SEED), ORIGIN) == cp
    assert checkpoint.sign(cp, SigningKey(SEED)) == note  # Ed25519 is deterministic


def test_key_id_and_verifier_key_of_a_published_key():
    name, key = checkpoint.parse_verifier_key(TESSERA["verifier_key_vkey"])
    assert name == TESSERA["origin"]
    assert checkpoint.key_id(name, key).hex() == "33d7b496"
    assert checkpoint.verifier_key(name, key) == TESSERA["verifier_key_vkey"]


def test_tessera_testdata_checkpoint_body_parses():
    text = f"{TESSERA['origin']}\n15\n{TESSERA['root_size15_b64']}\n"
    cp = Checkpoint.from_text(text)
    assert (cp.origin, cp.size, cp.root) == (TESSERA["origin"], 15, base64.b64decode(TESSERA["root_size15_b64"]))
    assert cp.to_text() == text


def test_tampered_notes_are_rejected():
    note = make_note()
    key = public(SEED)
    text, sig = note.split("\n\n")
    root_line = text.split("\n")[2]
    other_root = base64.b64encode(b"\x08" * 32).decode()
    tampered = [
        note.replace(f"{ORIGIN}\n3\n", f"{ORIGIN}\n4\n", 1),
        note.replace(root_line, other_root, 1),
        note.replace(ORIGIN + "\n", "example.com/ledger/tesT\n", 1),
        text + "\nextension\n\n" + sig,
    ]
    raw = bytearray(base64.b64decode(sig.split(" ")[2]))
    for position in (4, 40, 67):
        flipped = bytearray(raw)
        flipped[position] ^= 1
        tampered.append(text + "\n\n" + f"\u2014 {ORIGIN} {base64.b64encode(bytes(flipped)).decode()}\n")
    for bad in tampered:
        with pytest.raises((SignatureError, MalformedInputError)):
            checkpoint.verify(bad, key, ORIGIN)
    with pytest.raises(SignatureError):
        checkpoint.verify(note, public(OTHER_SEED), ORIGIN)
    with pytest.raises(SignatureError):
        checkpoint.verify(note, key, "example.com/other")


def test_unknown_signers_are_ignored_and_a_failing_known_signature_rejects():
    note = make_note()
    other_line = make_note(seed=OTHER_SEED, name="witness.example/w1").split("\n\n")[1]
    with_witness = note + other_line
    assert checkpoint.verify(with_witness, public(SEED), ORIGIN).size == 3
    witness_first = note.split("\n\n")[0] + "\n\n" + other_line + note.split("\n\n")[1]
    assert checkpoint.verify(witness_first, public(SEED), ORIGIN).size == 3
    assert checkpoint.verify(with_witness, public(OTHER_SEED), "witness.example/w1", origin=ORIGIN).size == 3
    only_witness = note.split("\n\n")[0] + "\n\n" + other_line
    with pytest.raises(SignatureError):
        checkpoint.verify(only_witness, public(SEED), ORIGIN)
    # A line with our name and key ID whose signature fails rejects the whole note, even
    # next to a good one.
    good_line = note.split("\n\n")[1]
    raw = bytearray(base64.b64decode(good_line.split(" ")[2]))
    raw[10] ^= 0x40
    bad_line = f"\u2014 {ORIGIN} {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(SignatureError):
        checkpoint.verify(note + bad_line, public(SEED), ORIGIN)


def test_origin_must_match():
    note = make_note()
    with pytest.raises(SignatureError):
        checkpoint.verify(note, public(SEED), ORIGIN, origin="example.com/elsewhere")
    renamed = make_note(name="operator.example/key1")
    assert checkpoint.verify(renamed, public(SEED), "operator.example/key1", origin=ORIGIN).origin == ORIGIN
    with pytest.raises(SignatureError):
        checkpoint.verify(renamed, public(SEED), "operator.example/key1")


@pytest.mark.parametrize(
    "text",
    [
        "origin\n3\n" + base64.b64encode(bytes(32)).decode(),  # no final newline
        "origin\n3\n",
        "origin\n03\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "origin\n-3\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "origin\n3 \n" + base64.b64encode(bytes(32)).decode() + "\n",
        "origin\n\u0663\n" + base64.b64encode(bytes(32)).decode() + "\n",  # an Arabic-Indic digit
        "origin\n3\n" + base64.b64encode(bytes(31)).decode() + "\n",
        "origin\n3\n" + base64.b64encode(bytes(32)).decode().rstrip("=") + "\n",
        "origin\n3\n" + base64.b64encode(bytes(32)).decode() + "\n\n",  # an empty extension line
        "\n3\n" + base64.b64encode(bytes(32)).decode() + "\n",
        f"origin\n{2**64}\n" + base64.b64encode(bytes(32)).decode() + "\n",
    ],
)
def test_malformed_checkpoint_texts(text):
    with pytest.raises(MalformedInputError):
        Checkpoint.from_text(text)


def test_malformed_notes():
    note = make_note()
    key = public(SEED)
    bad_notes = [
        note.replace("\n\n", "\n"),  # no blank line
        note[:-1],  # no final newline
        note.replace("\u2014", "-"),
        note.replace(f"\u2014 {ORIGIN} ", f"\u2014 {ORIGIN}  "),
        note[:-10] + "!!!!!!!!!\n",
        note.replace("\n3\n", "\n3\t\n"),
        b"\xff" + note.encode(),
        note.split("\n\n")[0] + "\n\n" + note.split("\n\n")[1] * (checkpoint.MAX_SIGNATURES + 1),
    ]
    for bad in bad_notes:
        with pytest.raises(MalformedInputError):
            checkpoint.verify(bad, key, ORIGIN)


def test_invalid_checkpoints_cannot_be_made():
    for args in [("", 1, bytes(32)), ("a\nb", 1, bytes(32)), (ORIGIN, -1, bytes(32)), (ORIGIN, 1, bytes(31)),
                 ("bad \ud800 origin", 1, bytes(32)), (ORIGIN, 1, bytes(32), ("",))]:
        with pytest.raises(MalformedInputError):
            Checkpoint(*args)
    for args, named in [((ORIGIN, True, bytes(32)), "size"), ((None, 1, bytes(32)), "origin"),
                        ((ORIGIN, "1", bytes(32)), "size"), ((ORIGIN, 1, "root" * 8), "root"),
                        ((ORIGIN, 1, bytes(32), "ext"), "extensions"), ((ORIGIN, 1, bytes(32), (1,)), "extensions[0]")]:
        with pytest.raises(InvalidTypeError, match=named.replace("[", r"\[")):
            Checkpoint(*args)
    with pytest.raises(MalformedInputError):
        checkpoint.sign(Checkpoint(ORIGIN, 1, bytes(32)), SEED, name="has space")
    with pytest.raises(InvalidArgumentError, match="signing_key"):
        checkpoint.sign(Checkpoint(ORIGIN, 1, bytes(32)), b"short")
    with pytest.raises(InvalidTypeError, match="signing_key"):
        checkpoint.sign(Checkpoint(ORIGIN, 1, bytes(32)), "0" * 32)
    with pytest.raises(InvalidTypeError, match="checkpoint"):
        checkpoint.sign(Checkpoint(ORIGIN, 1, bytes(32)).to_text(), SEED)


def test_signature_verification_goes_through_one_function(monkeypatch):
    """_verify_signature (ledger_core.ed25519.verify) is the only place a signature is checked."""
    note = make_note()
    calls = []

    def refuse(public_key, message, signature):
        calls.append((public_key, message, signature))
        return False

    monkeypatch.setattr(checkpoint, "_verify_signature", refuse)
    with pytest.raises(SignatureError):
        checkpoint.verify(note, public(SEED), ORIGIN)
    assert len(calls) == 1
    assert calls[0][0] == public(SEED) and calls[0][1] == note.split("\n\n")[0].encode() + b"\n"
    assert len(calls[0][2]) == 64


@pytest.mark.parametrize("suite", ["blake3", "sha256"])
def test_proofs_against_a_signed_checkpoint(suite):
    tree = merkle.MerkleTree(suite)
    tree.extend([b"invoice %d" % i for i in range(100)])
    old_note = checkpoint.sign(Checkpoint(ORIGIN, 60, tree.root(60)), SEED)
    new_note = checkpoint.sign(Checkpoint(ORIGIN, tree.size, tree.root()), SEED)
    old = checkpoint.verify(old_note, public(SEED), ORIGIN)
    new = checkpoint.verify(new_note, public(SEED), ORIGIN)
    leaf = tree.hasher.hash_leaf(b"invoice 42")
    assert tree.inclusion_proof(42, new.size).verify(leaf, new.root)
    assert merkle.verify_inclusion(suite, 42, new.size, leaf, tree.inclusion_proof(42, new.size).hashes, new.root)
    assert tree.consistency_proof(old.size, new.size).verify(old.root, new.root)


def test_ledger_core_signing_key_signs_and_non_canonical_s_is_rejected():
    """Checkpoints take our SigningKey, and verification follows docs/POLICY.md: the same
    signature with S + L in place of S (accepted by lax verifiers) is rejected."""
    from ledger_core import ed25519

    key = ed25519.SigningKey.from_seed(SEED)
    note = checkpoint.sign(Checkpoint(ORIGIN, 7, bytes(range(32))), key)
    assert checkpoint.verify(note, key.public_key, ORIGIN).size == 7
    text, line = note.split("\n\n")
    name, b64 = line.rstrip("\n").split(" ")[1:]
    raw = base64.b64decode(b64)
    s = int.from_bytes(raw[4 + 32 :], "little") + ed25519.GROUP_ORDER
    forged = raw[: 4 + 32] + s.to_bytes(32, "little")
    forged_note = text + "\n\n" + f"\u2014 {name} {base64.b64encode(forged).decode()}\n"
    with pytest.raises(SignatureError):
        checkpoint.verify(forged_note, key.public_key, ORIGIN)


# --- issue 12 item 8: every bad argument is a LedgerError naming it ----------------------


def test_verify_with_a_lone_surrogate_is_malformed_not_unicode_encode_error():
    note = make_note()
    key = public(SEED)
    for bad in (note.replace(ORIGIN + "\n", "example.com/\udc80\n", 1), note + "\ud800"):
        with pytest.raises(MalformedInputError, match="note"):
            checkpoint.verify(bad, key, ORIGIN)
    with pytest.raises(MalformedInputError, match="name"):
        checkpoint.verify(note, key, "example.com/\ud800")
    with pytest.raises(MalformedInputError, match="origin"):
        checkpoint.verify(note, key, ORIGIN, origin="\ud800")


def test_verify_with_public_key_none_or_a_32_character_str_raises_invalid_type():
    note = make_note()
    for bad in (None, "k" * 32, public(SEED).hex()[:32], 7):
        with pytest.raises(InvalidTypeError, match="public_key"):
            checkpoint.verify(note, bad, ORIGIN)
    with pytest.raises(InvalidArgumentError, match="public_key"):
        checkpoint.verify(note, public(SEED)[:31], ORIGIN)
    # Any bytes-like form of the key works.
    assert checkpoint.verify(note, bytearray(public(SEED)), ORIGIN).size == 3
    assert checkpoint.verify(note, memoryview(public(SEED)), ORIGIN).size == 3


def test_from_text_with_a_5000_digit_size_is_malformed_not_the_digit_limit_error():
    root = base64.b64encode(bytes(32)).decode()
    with pytest.raises(MalformedInputError, match="size"):
        Checkpoint.from_text("origin\n" + "9" * 5000 + "\n" + root + "\n")
    with pytest.raises(MalformedInputError, match="size"):
        Checkpoint.from_text("origin\n" + "1" * 21 + "\n" + root + "\n")
    assert Checkpoint.from_text(f"origin\n{2**64 - 1}\n{root}\n").size == 2**64 - 1


def test_parse_verifier_key_none_raises_invalid_type_not_attribute_error():
    for bad in (None, b"name+00000000+AAAA", 5):
        with pytest.raises(InvalidTypeError, match="vkey"):
            checkpoint.parse_verifier_key(bad)
    for bad in ("no plus signs", "a+zz+AAAA", "a+00000000+!!!!", "\ud800+00000000+AAAA",
                "name+" + TESSERA["verifier_key_vkey"].split("+", 1)[1]):
        with pytest.raises(MalformedInputError, match="vkey"):
            checkpoint.parse_verifier_key(bad)


def test_other_wrong_types_are_ledger_errors_naming_the_argument():
    note = make_note()
    for call, named in [
        (lambda: checkpoint.verify(None, public(SEED), ORIGIN), "note"),
        (lambda: checkpoint.verify(5, public(SEED), ORIGIN), "note"),
        (lambda: checkpoint.verify(note, public(SEED), None), "name"),
        (lambda: checkpoint.verify(note, public(SEED), ORIGIN, origin=3), "origin"),
        (lambda: Checkpoint.from_text(None), "text"),
        (lambda: Checkpoint.from_text(b"origin\n"), "text"),
        (lambda: checkpoint.key_id(None, public(SEED)), "name"),
        (lambda: checkpoint.key_id(ORIGIN, None), "public_key"),
        (lambda: checkpoint.verifier_key(ORIGIN, "k" * 32), "public_key"),
        (lambda: checkpoint.public_key_of(None), "signing_key"),
    ]:
        with pytest.raises(InvalidTypeError, match=named) as info:
            call()
        assert isinstance(info.value, LedgerError) and isinstance(info.value, TypeError)


def test_parse_verifier_key_with_whitespace_or_uppercase_in_the_key_id_is_malformed():
    """bytes.fromhex skipped a carriage return inside the key ID (found by the fuzzer)."""
    name, key_id_hex, key = TESSERA["verifier_key_vkey"].split("+", 2)
    for bad_id in ("\r" + key_id_hex, key_id_hex[:4] + " " + key_id_hex[4:], key_id_hex.upper(), key_id_hex + "00"):
        if bad_id == key_id_hex:
            continue
        with pytest.raises(MalformedInputError, match="vkey"):
            checkpoint.parse_verifier_key(f"{name}+{bad_id}+{key}")
    assert checkpoint.parse_verifier_key(f"{name}+{key_id_hex}+{key}")[0] == name

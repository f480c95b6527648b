"""Signed checkpoints of the Merkle log: C2SP tlog-checkpoint in a C2SP signed note.

A checkpoint commits the log operator to (origin, size, root). Its note text is::

    <origin>\\n
    <size in decimal, no leading zeros>\\n
    <base64 of the 32-byte root>\\n
    [<extension line>\\n ...]

and the signed note appends a blank line and one signature line per signer::

    \\u2014 <key name> <base64(key ID (4 bytes) || Ed25519 signature (64 bytes))>\\n

with key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]. The
signature covers the note text (up to and including its last newline, not the blank
line). A verifier ignores signature lines from keys it does not know, rejects the note if
a known key's signature fails, and needs at least one known key's signature to succeed
(c2sp.org/signed-note). The root is of whichever suite the log uses: checkpoints of a
blake3-suite log are not RFC 6962 roots, so such logs should say so in their origin
(docs/FORMAT.md).

Signing goes through libsodium (PyNaCl); ledger_core never handles secret-key arithmetic
itself. Verification is ledger_core.ed25519.verify, under the policy of docs/POLICY.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from typing import Any, List, Optional, Tuple, Union

from ledger_core.errors import InvalidArgumentError, InvalidTypeError, MalformedInputError, SignatureError

ROOT_LEN = 32
PUBLIC_KEY_LEN = 32
SIGNATURE_LEN = 64
KEY_ID_LEN = 4
SIGNATURE_TYPE_ED25519 = 0x01
MAX_SIGNATURES = 64
"""Signature lines a note may carry (C2SP asks verifiers to accept at least 16)."""

_EM_DASH = "\u2014"
_UINT64_MAX = (1 << 64) - 1
_SIZE_DIGITS_MAX = 20
"""Digits of the largest size, 2^64 - 1: longer size lines are refused before int() (whose
own digit limit would raise a plain ValueError)."""


def _text(value: Any, name: str) -> str:
    """A str argument that UTF-8 can encode (a lone surrogate cannot): InvalidTypeError for
    another type, MalformedInputError naming it for unencodable text."""
    if not isinstance(value, str):
        raise InvalidTypeError(f"{name} must be a str, got {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MalformedInputError(f"{name} is not valid Unicode text (a lone surrogate at {exc.start})") from None
    return value


def _public_key(value: Any, name: str = "public_key") -> bytes:
    """A 32-byte Ed25519 public key given as bytes-like; a str (even 32 characters) is a
    wrong type: verifier key strings go through parse_verifier_key."""
    if isinstance(value, str):
        raise InvalidTypeError(f"{name} must be {PUBLIC_KEY_LEN} bytes, not str "
                               "(parse a verifier key string with parse_verifier_key)")
    try:
        with memoryview(value) as view:
            raw = view.tobytes()
    except TypeError:
        raise InvalidTypeError(f"{name} must be {PUBLIC_KEY_LEN} bytes, got {type(value).__name__}") from None
    if len(raw) != PUBLIC_KEY_LEN:
        raise InvalidArgumentError(f"{name} must be {PUBLIC_KEY_LEN} bytes (an Ed25519 public key), got {len(raw)}")
    return raw


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: origin, size and root (plus opaque extension lines, not
    recommended)."""

    origin: str
    size: int
    root: bytes
    extensions: Tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not _text(self.origin, "origin") or "\n" in self.origin:
            raise MalformedInputError("checkpoint origin must be a non-empty single line")
        if _has_control(self.origin):
            raise MalformedInputError("checkpoint origin must not contain control characters")
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise InvalidTypeError(f"checkpoint size must be an int, got {type(self.size).__name__}")
        if not 0 <= self.size <= _UINT64_MAX:
            raise MalformedInputError(f"checkpoint size must be an int in [0, 2**64), got {self.size!r}")
        if not isinstance(self.root, (bytes, bytearray, memoryview)):
            raise InvalidTypeError(f"checkpoint root must be {ROOT_LEN} bytes, got {type(self.root).__name__}")
        if len(bytes(self.root)) != ROOT_LEN:
            raise MalformedInputError(f"checkpoint root must be {ROOT_LEN} bytes, got {len(bytes(self.root))}")
        object.__setattr__(self, "root", bytes(self.root))
        if isinstance(self.extensions, (str, bytes)) or not isinstance(self.extensions, (tuple, list)):
            raise InvalidTypeError(f"checkpoint extensions must be a tuple of str lines, got {type(self.extensions).__name__}")
        object.__setattr__(self, "extensions", tuple(self.extensions))
        for i, line in enumerate(self.extensions):
            if not _text(line, f"extensions[{i}]") or "\n" in line or _has_control(line):
                raise MalformedInputError(f"checkpoint extensions[{i}] must be a non-empty single line")

    def to_text(self) -> str:
        """The note text: origin, size, base64 root, extension lines, each ending in \\n."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode("ascii"), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def from_text(cls, text: str) -> "Checkpoint":
        """Parse a note text (not a signed note: see :func:`verify`). Strict: decimal size
        without leading zeros, canonical base64 of exactly 32 bytes, non-empty lines."""
        if not _text(text, "text").endswith("\n"):
            raise MalformedInputError("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedInputError("checkpoint text needs origin, size and root lines")
        origin, size_text, root_text, *extensions = lines
        if not size_text.isascii() or not size_text.isdigit() or (size_text != "0" and size_text[0] == "0"):
            raise MalformedInputError(f"checkpoint size {size_text[:30]!r} is not a decimal without leading zeros")
        if len(size_text) > _SIZE_DIGITS_MAX:
            raise MalformedInputError(f"checkpoint size has {len(size_text)} digits; a size is below 2**64")
        size = int(size_text)
        try:
            root = base64.b64decode(root_text.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise MalformedInputError("checkpoint root is not base64") from None
        if len(root) != ROOT_LEN or base64.b64encode(root).decode("ascii") != root_text:
            raise MalformedInputError(f"checkpoint root must be the canonical base64 of {ROOT_LEN} bytes")
        return cls(origin, size, root, tuple(extensions))


def _has_control(text: str) -> bool:
    return any(ord(ch) < 0x20 and ch != "\n" for ch in text)


def _check_key_name(name: str) -> None:
    if not _text(name, "name") or any(ch.isspace() for ch in name) or "+" in name:
        raise MalformedInputError(f"key name {name!r} must be non-empty, without spaces or '+'")
    if _has_control(name):
        raise MalformedInputError("key name must not contain control characters")


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte key ID of an Ed25519 note key: SHA-256(name || 0x0A || 0x01 || key)[:4]."""
    _check_key_name(name)
    public_key = _public_key(public_key)
    material = name.encode("utf-8") + b"\n" + bytes([SIGNATURE_TYPE_ED25519]) + public_key
    return hashlib.sha256(material).digest()[:KEY_ID_LEN]


def verifier_key(name: str, public_key: bytes) -> str:
    """The note verifier key string: ``<name>+<hex key ID>+<base64(0x01 || key)>``."""
    kid = key_id(name, public_key)
    encoded = base64.b64encode(bytes([SIGNATURE_TYPE_ED25519]) + _public_key(public_key)).decode("ascii")
    return f"{name}+{kid.hex()}+{encoded}"


def parse_verifier_key(vkey: str) -> Tuple[str, bytes]:
    """(name, public key) of a verifier key string; checks its type byte and key ID."""
    parts = _text(vkey, "vkey").split("+", 2)
    if len(parts) != 3:
        raise MalformedInputError("vkey must be <name>+<key ID hex>+<base64 key>")
    name, kid_hex, key_b64 = parts
    # bytes.fromhex skips whitespace and takes uppercase: the key ID is exactly 8 lowercase
    # hex digits, and the key the canonical base64 of its 33 bytes.
    if len(kid_hex) != 2 * KEY_ID_LEN or not set(kid_hex) <= set("0123456789abcdef"):
        raise MalformedInputError(f"vkey's key ID must be {2 * KEY_ID_LEN} lowercase hex digits")
    try:
        kid = bytes.fromhex(kid_hex)
        raw = base64.b64decode(key_b64.encode("ascii"), validate=True)
    except (ValueError, binascii.Error):
        raise MalformedInputError("vkey has a bad key ID or base64 key") from None
    if len(kid) != KEY_ID_LEN or len(raw) != 1 + PUBLIC_KEY_LEN or raw[0] != SIGNATURE_TYPE_ED25519:
        raise MalformedInputError("vkey is not an Ed25519 note key")
    if base64.b64encode(raw).decode("ascii") != key_b64:
        raise MalformedInputError("vkey's key must be canonical base64")
    public_key = raw[1:]
    try:
        _check_key_name(name)
    except MalformedInputError as exc:
        raise MalformedInputError(f"vkey's {exc}") from None
    if key_id(name, public_key) != kid:
        raise MalformedInputError("vkey's key ID does not match its name and key")
    return name, public_key


def _signing_key(key: Any) -> Any:
    from nacl.signing import SigningKey as NaclSigningKey

    from ledger_core.ed25519 import SigningKey

    if isinstance(key, SigningKey):
        return key._key
    if isinstance(key, NaclSigningKey):
        return key
    if isinstance(key, (bytes, bytearray)):
        if len(key) != 32:
            raise InvalidArgumentError(f"signing_key as a seed must be 32 bytes, got {len(key)}")
        return NaclSigningKey(bytes(key))
    raise InvalidTypeError("signing_key must be a ledger_core.ed25519.SigningKey, a nacl.signing.SigningKey "
                           f"or a 32-byte seed, got {type(key).__name__}")


def sign(checkpoint: Checkpoint, signing_key: Any, name: Optional[str] = None) -> str:
    """The signed note of `checkpoint`, signed with Ed25519 by `signing_key` (a
    nacl.signing.SigningKey or its 32-byte seed) under key `name` (default: the origin,
    as C2SP recommends)."""
    if not isinstance(checkpoint, Checkpoint):
        raise InvalidTypeError(f"checkpoint must be a Checkpoint, got {type(checkpoint).__name__}")
    name = checkpoint.origin if name is None else name
    _check_key_name(name)
    key = _signing_key(signing_key)
    text = checkpoint.to_text()
    signature = key.sign(text.encode("utf-8")).signature
    kid = key_id(name, bytes(key.verify_key))
    line = f"{_EM_DASH} {name} {base64.b64encode(kid + signature).decode('ascii')}\n"
    return text + "\n" + line


def public_key_of(signing_key: Any) -> bytes:
    """The 32-byte Ed25519 public key of a signing key (SigningKey or seed)."""
    return bytes(_signing_key(signing_key).verify_key)


def _verify_signature(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Ed25519 verification of one note signature (the one place that calls a verifier):
    ledger_core's own verifier, under the policy of docs/POLICY.md."""
    from ledger_core import ed25519

    if len(public_key) != ed25519.PUBLIC_KEY_LEN or len(signature) != ed25519.SIGNATURE_LEN:
        return False
    return ed25519.verify(bytes(public_key), bytes(message), bytes(signature))


def _split_note(note: Union[str, bytes]) -> Tuple[str, List[Tuple[str, bytes]]]:
    """(text, [(key name, decoded signature)]) of a signed note, strictly parsed."""
    if isinstance(note, (bytes, bytearray)):
        try:
            note = bytes(note).decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedInputError("note must be UTF-8") from None
    if not isinstance(note, str):
        raise InvalidTypeError(f"note must be a str or UTF-8 bytes, got {type(note).__name__}")
    _text(note, "note")
    if _has_control(note):
        raise MalformedInputError("a signed note must not contain control characters other than newline")
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise MalformedInputError("a signed note is text, a blank line and signature lines, ending in newline")
    text, signature_block = note[: split + 1], note[split + 2:]
    lines = signature_block[:-1].split("\n")
    if not lines or len(lines) > MAX_SIGNATURES:
        raise MalformedInputError(f"a signed note needs 1 to {MAX_SIGNATURES} signature lines")
    signatures = []
    for line in lines:
        prefix = _EM_DASH + " "
        if not line.startswith(prefix):
            raise MalformedInputError("a signature line starts with an em dash and a space")
        fields = line[len(prefix):].split(" ")
        if len(fields) != 2 or not fields[0]:
            raise MalformedInputError("a signature line is '\u2014 <name> <base64 signature>'")
        try:
            raw = base64.b64decode(fields[1].encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise MalformedInputError("a signature is not base64") from None
        if len(raw) < KEY_ID_LEN + 1:
            raise MalformedInputError("a signature is shorter than its key ID")
        signatures.append((fields[0], raw))
    return text, signatures


def verify(note: Union[str, bytes], public_key: bytes, name: str, origin: Optional[str] = None) -> Checkpoint:
    """The checkpoint of a signed note, once an Ed25519 signature by `public_key` under
    key `name` verifies; `origin` (default: `name`) must be its origin line.

    Signatures by other keys are ignored. Raises MalformedInputError when the note does
    not parse, SignatureError when no signature of this key verifies or one of this
    key's signatures fails; both are ValueErrors.
    """
    kid = key_id(name, public_key)
    public_key = _public_key(public_key)
    if origin is not None:
        _text(origin, "origin")
    text, signatures = _split_note(note)
    message = text.encode("utf-8")
    verified = False
    for signer, raw in signatures:
        if signer != name or raw[:KEY_ID_LEN] != kid:
            continue  # c2sp.org/signed-note: unknown keys are ignored
        if len(raw) != KEY_ID_LEN + SIGNATURE_LEN or not _verify_signature(public_key, message, raw[KEY_ID_LEN:]):
            raise SignatureError(f"the signature of key {name!r} on this checkpoint does not verify")
        verified = True
    if not verified:
        raise SignatureError(f"no signature of key {name!r} on this checkpoint")
    checkpoint = Checkpoint.from_text(text)
    expected = name if origin is None else origin
    if checkpoint.origin != expected:
        raise SignatureError(f"checkpoint origin {checkpoint.origin!r} is not the expected {expected!r}")
    return checkpoint


__all__ = [
    "Checkpoint",
    "SignatureError",
    "ROOT_LEN",
    "PUBLIC_KEY_LEN",
    "SIGNATURE_LEN",
    "KEY_ID_LEN",
    "SIGNATURE_TYPE_ED25519",
    "MAX_SIGNATURES",
    "key_id",
    "verifier_key",
    "parse_verifier_key",
    "public_key_of",
    "sign",
    "verify",
]

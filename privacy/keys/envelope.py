"""Envelope encryption: data keys per subject record, each wrapped by the master key.

A subject is one record of one source, ``(source, source_record_id)``. Its data key is 32 random
bytes used with AES-256-GCM; what the key store keeps is that key wrapped (AES-256-GCM again)
by the master key, with the subject and the master key's id as associated data, so a wrapped
key moved to another subject, or opened with another master key, fails to open.

Ciphertext of a value, version 1 (``encrypt`` returns it, ``to_text`` gives its text form)::

    0x01 | nonce (12 bytes) | AES-256-GCM ciphertext of the UTF-8 value | tag (16 bytes)

with associated data binding it to the subject and the field, so a value copied to another
field or record does not decrypt. The text form is ``enc:`` followed by the bytes in unpadded
URL-safe base64; a value of n UTF-8 bytes takes ``4 + ceil((29 + n) * 4 / 3)`` characters.
"""

from __future__ import annotations

import base64
import binascii
import os
import struct
from dataclasses import dataclass, field
from typing import NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from privacy.keys.master_key import KEY_BYTES, MasterKey

FORMAT_V1 = 1
NONCE_BYTES = 12
TEXT_PREFIX = "enc:"
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


class Subject(NamedTuple):
    source: str
    source_record_id: str


class DecryptionError(ValueError):
    """A ciphertext that does not open: wrong key, wrong subject or field, or tampered bytes."""


def _parts(*parts: str | bytes) -> bytes:
    """Length-prefixed parts, so no two different tuples encode to the same bytes."""
    encoded = [part.encode("utf-8") if isinstance(part, str) else part for part in parts]
    return b"".join([struct.pack(">I", len(raw)) + raw for raw in encoded])


def value_aad(subject: Subject, field_name: str) -> bytes:
    return _parts(b"hub-value/v1", subject.source, subject.source_record_id, field_name)


def wrap_aad(name: tuple[str, ...], master_key_id: str) -> bytes:
    return _parts(b"hub-wrapped-key/v1", *name, master_key_id)


def wrap(master: MasterKey, secret: bytes, name: tuple[str, ...]) -> bytes:
    """``secret`` sealed under the master key: nonce | ciphertext | tag."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(master.secret).encrypt(nonce, secret, wrap_aad(name, master.key_id))


def unwrap(master: MasterKey, wrapped: bytes, name: tuple[str, ...]) -> bytes:
    return unwrap_with(AESGCM(master.secret), master.key_id, wrapped, name)


def unwrap_with(aead: AESGCM, master_key_id: str, wrapped: bytes, name: tuple[str, ...]) -> bytes:
    try:
        secret = aead.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], wrap_aad(name, master_key_id))
    except InvalidTag:
        raise DecryptionError(f"a wrapped key does not open under master key {master_key_id}") from None
    if len(secret) != KEY_BYTES:
        raise DecryptionError("a wrapped key holds no 32-byte key")
    return secret


@dataclass(frozen=True)
class DataKey:
    """One subject's data key, unwrapped (in memory only)."""

    subject: Subject
    secret: bytes = field(repr=False)
    aead: AESGCM = field(init=False, repr=False, compare=False)
    _aads: dict[str, bytes] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        # Built once per key, and the associated data once per field: per value, they cost
        # more than the encryption itself.
        object.__setattr__(self, "aead", AESGCM(self.secret))

    def _aad(self, field_name: str) -> bytes:
        aad = self._aads.get(field_name)
        if aad is None:
            aad = self._aads[field_name] = value_aad(self.subject, field_name)
        return aad

    def encrypt(self, field_name: str, value: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self.aead.encrypt(nonce, value.encode("utf-8"), self._aad(field_name))
        return bytes((FORMAT_V1,)) + nonce + sealed

    def decrypt(self, field_name: str, ciphertext: bytes) -> str:
        if not ciphertext or ciphertext[0] != FORMAT_V1:
            raise DecryptionError(f"unknown ciphertext format in field {field_name!r}")
        nonce, sealed = ciphertext[1 : 1 + NONCE_BYTES], ciphertext[1 + NONCE_BYTES :]
        try:
            plain = self.aead.decrypt(nonce, sealed, self._aad(field_name))
        except InvalidTag:
            raise DecryptionError(
                f"field {field_name!r} of {self.subject.source} record {self.subject.source_record_id} "
                "does not decrypt under its key"
            ) from None
        return plain.decode("utf-8")

    def encrypt_text(self, field_name: str, value: str | None) -> str | None:
        return None if value is None else to_text(self.encrypt(field_name, value))

    def decrypt_text(self, field_name: str, text: str | None) -> str | None:
        return None if text is None else self.decrypt(field_name, from_text(text))


def to_text(ciphertext: bytes) -> str:
    return TEXT_PREFIX + base64.urlsafe_b64encode(ciphertext).rstrip(b"=").decode("ascii")


def from_text(text: str) -> bytes:
    if not text.startswith(TEXT_PREFIX):
        raise DecryptionError("not a hub ciphertext (no 'enc:' prefix)")
    body = text[len(TEXT_PREFIX) :]
    try:
        # binascii directly: base64.urlsafe_b64decode's argument checks cost more than the decryption.
        raw = (body + "=" * (-len(body) % 4)).encode("ascii").translate(_FROM_URLSAFE)
        return binascii.a2b_base64(raw, strict_mode=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise DecryptionError("a hub ciphertext that is not valid base64") from None


def is_ciphertext(text: str) -> bool:
    return text.startswith(TEXT_PREFIX)

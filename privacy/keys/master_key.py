"""The master key: the one secret that wraps every other key of the hub.

It comes, in this order, from the file named by ``HUB_MASTER_KEY_FILE``, from the value of
``HUB_MASTER_KEY``, or, for demos only, from a key generated under the data root
(``state/master.key``, mode 0600), which is announced by a warning every time it is loaded.
This module only names the variables: the CLI or a Dagster resource reads them and hands the
values in, as the layout does for the data root.

A key is 32 random bytes, written as one line of standard base64 (``openssl rand -base64 32``).
Its id is a fingerprint (a keyed hash of a fixed label) that names the key without revealing it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

MASTER_KEY_FILE_VAR = "HUB_MASTER_KEY_FILE"
MASTER_KEY_VAR = "HUB_MASTER_KEY"
KEY_BYTES = 32

log = logging.getLogger(__name__)

DEV_KEY_WARNING = (
    "USING THE GENERATED DEVELOPMENT MASTER KEY at {path}: it lies next to the data it protects, "
    "so a copy of the data root is a copy of the key. Bring your own with "
    f"{MASTER_KEY_FILE_VAR} or {MASTER_KEY_VAR} for anything but a demo."
)


class MasterKeyError(ValueError):
    """A master key that cannot be read or is not a 32-byte key."""


@dataclass(frozen=True)
class MasterKey:
    secret: bytes = field(repr=False)
    origin: str
    is_dev: bool = False

    def __post_init__(self) -> None:
        if len(self.secret) != KEY_BYTES:
            raise MasterKeyError(f"a master key has {KEY_BYTES} bytes; the one from {self.origin} has {len(self.secret)}")

    @property
    def key_id(self) -> str:
        return hmac.new(self.secret, b"customer-hub master key id", hashlib.sha256).hexdigest()[:16]

    @classmethod
    def generate(cls, origin: str = "generated") -> MasterKey:
        return cls(secrets.token_bytes(KEY_BYTES), origin)


def encode(secret: bytes) -> str:
    return base64.b64encode(secret).decode("ascii")


def decode(text: str, origin: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as error:
        raise MasterKeyError(f"the master key in {origin} is not base64 ({error})") from None


def read_key_file(path: Path, *, is_dev: bool = False) -> MasterKey:
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise MasterKeyError(f"cannot read the master key file {path}: {error}") from None
    if path.stat().st_mode & 0o077:
        log.warning("the master key file %s can be read by other users; chmod 600 it", path)
    return MasterKey(decode(text, str(path)), str(path), is_dev=is_dev)


def write_key_file(path: Path, key: MasterKey) -> None:
    """Write a new key file with mode 0600; never overwrites an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(encode(key.secret) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def load_master_key(*, key_file: str | Path | None, key_value: str | None, dev_key_path: Path) -> MasterKey:
    """The master key the hub runs with: the file, else the value, else the (created) dev key.

    ``key_file`` and ``key_value`` are what the caller read from ``HUB_MASTER_KEY_FILE`` and
    ``HUB_MASTER_KEY``; empty strings count as unset.
    """
    if key_file:
        return read_key_file(Path(key_file))
    if key_value:
        return MasterKey(decode(key_value, MASTER_KEY_VAR), MASTER_KEY_VAR)
    if not dev_key_path.exists():
        write_key_file(dev_key_path, MasterKey.generate(str(dev_key_path)))
    key = read_key_file(dev_key_path, is_dev=True)
    log.warning(DEV_KEY_WARNING.format(path=dev_key_path))
    return key

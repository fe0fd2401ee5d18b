"""Columns in and out of ciphertext: a key store, its join keys and the data keys in use.

Values are sealed and opened a column at a time, with the data keys of every subject in the
column fetched (or created) in one key-store transaction, never one per value. A vault keeps
the keys it has unwrapped for its life, so a dbt connection or a landing that sees the same
subjects in many chunks asks the store once per subject.

Opening a value of a subject whose key was forgotten gives None: that value is
crypto-shredded. A value that is not hub ciphertext is returned as it is, so a caller that
reads a column written before encryption, or a test's given rows, still works; the
encryption-coverage check is what guarantees that the columns the policy protects hold none.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from privacy.keys.envelope import TEXT_PREFIX, DataKey, Subject, from_text
from privacy.keys.join_keys import JoinKeys
from privacy.keys.keystore import KeyStore
from privacy.keys.master_key import MasterKey


class Vault:
    def __init__(self, store: KeyStore) -> None:
        self.store = store
        self._keys: dict[Subject, DataKey] = {}
        self._forgotten: set[Subject] = set()
        self._join: JoinKeys | None = None
        self._lock = threading.Lock()
        self._loaded_sources: set[str] = set()

    @classmethod
    def open(cls, path: Path, master: MasterKey) -> Vault:
        return cls(KeyStore.open(path, master))

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.store.close()

    @property
    def join_keys(self) -> JoinKeys:
        if self._join is None:
            with self._lock:
                self._join = JoinKeys(self.store.join_key())
        return self._join

    def keys_for(self, subjects: Sequence[Subject]) -> dict[Subject, DataKey]:
        """Each subject's data key, created for those that have none (one transaction)."""
        missing = [s for s in dict.fromkeys(subjects) if s not in self._keys]
        if missing:
            with self._lock:
                self._keys.update(self.store.data_keys(missing))
        return self._keys

    def _existing(self, subjects: Sequence[Subject]) -> dict[Subject, DataKey]:
        missing = [s for s in dict.fromkeys(subjects) if s not in self._keys and s not in self._forgotten]
        if missing:
            with self._lock:
                found = self.store.existing_keys(missing)
                self._keys.update(found)
                self._forgotten.update(s for s in missing if s not in found)
        return self._keys

    def seal(self, subjects: Sequence[Subject], field_name: str, values: Sequence[str | None]) -> list[str | None]:
        """``values[i]`` encrypted under ``subjects[i]``'s data key for ``field_name``."""
        keys = self.keys_for([s for s, v in zip(subjects, values, strict=True) if v is not None])
        return [None if v is None else keys[s].encrypt_text(field_name, v)
                for s, v in zip(subjects, values, strict=True)]

    def open_one(self, subject: Subject, field_name: str, value: str) -> str | None:
        """One value in clear (None if its subject was forgotten). The first value of a subject
        source loads every key of that source in one query, so a table costs one query, not one
        per row."""
        if not value.startswith(TEXT_PREFIX):
            return value
        key = self._keys.get(subject)
        if key is None and subject not in self._forgotten:
            with self._lock:
                if subject.source not in self._loaded_sources:
                    self._keys.update(self.store.keys_of_source(subject.source))
                    self._loaded_sources.add(subject.source)
            key = self._keys.get(subject) or self._existing([subject]).get(subject)
        return None if key is None else key.decrypt(field_name, from_text(value))

    def open_values(self, subjects: Sequence[Subject], field_name: str,
                    values: Sequence[str | None]) -> list[str | None]:
        """The cleartext of ``values``; None where the subject's key was forgotten."""
        pairs = list(zip(subjects, values, strict=True))
        keys = self._existing([s for s, v in pairs if v is not None and v.startswith(TEXT_PREFIX)])
        out: list[str | None] = []
        for subject, value in pairs:
            if value is None or not value.startswith(TEXT_PREFIX):
                out.append(value)
                continue
            key = keys.get(subject)
            out.append(None if key is None else key.decrypt(field_name, from_text(value)))
        return out

"""Master-key rotation: every key rewrapped, data untouched, the old master key opens nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from privacy.keys.envelope import DecryptionError, Subject, unwrap
from privacy.keys.join_keys import JoinKeys
from privacy.keys.keystore import KeyStore, KeyStoreError
from privacy.keys.master_key import MasterKey


def test_rotation_keeps_old_ciphertext_readable_and_the_old_master_opens_nothing(tmp_path: Path) -> None:
    path = tmp_path / "keys.sqlite"
    old, new = MasterKey.generate(), MasterKey.generate()
    subjects = [Subject("crm", f"c{i}") for i in range(25_000)]  # more than one rotation chunk
    with KeyStore.open(path, old) as store:
        keys = store.data_keys(subjects)
        join_key_before = store.join_key()
    ciphertexts = {s: keys[s].encrypt_text("email", f"person{s.source_record_id}@example.test") for s in subjects[::997]}
    with sqlite3.connect(path) as db:
        wrapped_before = dict(((s, r), w) for s, r, w in db.execute("select source, source_record_id, wrapped from data_keys"))

    with KeyStore.open(path, old) as store:
        rotation = store.rotate(new)
    assert (rotation.old_key_id, rotation.new_key_id) == (old.key_id, new.key_id)
    assert (rotation.data_keys, rotation.secrets) == (25_000, 1)

    with KeyStore.open(path, new) as store:
        for subject, text in ciphertexts.items():
            assert store.key_for_decrypt(subject).decrypt_text("email", text) == f"person{subject.source_record_id}@example.test"
        assert store.join_key() == join_key_before
        assert store.status().retired_master_keys == (old.key_id,)

    with pytest.raises(KeyStoreError, match="retired"):
        KeyStore.open(path, old)
    # Not only refused by the store: no wrapped key in the file opens under the old master key.
    with sqlite3.connect(path) as db:
        rows = db.execute("select source, source_record_id, wrapped, master_key_id from data_keys").fetchall()
        secrets = db.execute("select name, wrapped from secrets").fetchall()
    assert {r[3] for r in rows} == {new.key_id}
    for source, record_id, wrapped, _ in rows[::500]:
        with pytest.raises(DecryptionError):
            unwrap(old, wrapped, Subject(source, record_id))
        assert unwrap(new, wrapped, Subject(source, record_id)) == keys[Subject(source, record_id)].secret
    for name, wrapped in secrets:
        with pytest.raises(DecryptionError):
            unwrap(old, wrapped, ("secret", name))
    content = path.read_bytes()
    assert not any(w in content for w in list(wrapped_before.values())[::250]), "old wrappings left in the file"


def test_rotating_to_the_same_or_an_already_used_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keys.sqlite"
    first, second = MasterKey.generate(), MasterKey.generate()
    with KeyStore.open(path, first) as store:
        with pytest.raises(KeyStoreError, match="current one"):
            store.rotate(first)
        store.rotate(second)
        with pytest.raises(KeyStoreError, match="used before"):
            store.rotate(first)


def test_join_keys_are_deterministic_per_kind_and_key(tmp_path: Path) -> None:
    with KeyStore.open(tmp_path / "keys.sqlite", MasterKey.generate()) as store:
        keys = JoinKeys(store.join_key())
        assert JoinKeys(store.join_key()) == keys
    email = keys.email("anna@example.test")
    assert email == keys.of("email", "anna@example.test") and len(email or "") == 64
    assert email != keys.phone("anna@example.test")
    assert email != JoinKeys(b"\x01" * 32).email("anna@example.test")
    assert keys.many("phone", ["+8613800138000", None, ""]) == [keys.phone("+8613800138000"), None, None]
    with pytest.raises(ValueError, match="normalised first"):
        keys.email(" anna@example.test")
    with pytest.raises(ValueError, match="unknown join-key kind"):
        keys.of("name", "Anna")

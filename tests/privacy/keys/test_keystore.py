"""The key store: get-or-create per subject, values bound to subject and field, and forgetting."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from privacy.keys.envelope import DecryptionError, Subject, from_text
from privacy.keys.keystore import KeyStore, KeyStoreError, SubjectForgotten
from privacy.keys.master_key import MasterKey

ANNA = Subject("crm", "contact-17")
BORIS = Subject("erp", "customer-17")


def wrapped_bytes(path: Path, subject: Subject) -> bytes:
    with sqlite3.connect(path) as db:
        row = db.execute(
            "select wrapped from data_keys where source = ? and source_record_id = ?", subject
        ).fetchone()
    return row[0]


def files_bytes(path: Path) -> bytes:
    """The store's file and anything SQLite keeps beside it (journal, WAL)."""
    return b"".join(p.read_bytes() for p in path.parent.iterdir() if p.name.startswith(path.name))


@pytest.fixture
def master() -> MasterKey:
    return MasterKey.generate()


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "keys" / "keys.sqlite"


def test_a_batch_gets_one_key_per_subject_and_the_same_keys_again_after_reopening(
    store_path: Path, master: MasterKey
) -> None:
    subjects = [Subject("crm", f"c{i}") for i in range(500)]
    with KeyStore.open(store_path, master) as store:
        first = store.data_keys([*subjects, *subjects[:10]])
        assert len(first) == 500 and len({k.secret for k in first.values()}) == 500
    with KeyStore.open(store_path, master) as store:
        again = store.data_keys([*subjects[:250], Subject("crm", "new")])
        assert store.status().data_keys == 501
    assert all(again[s].secret == first[s].secret for s in subjects[:250])


def test_a_value_decrypts_only_for_its_subject_and_field(store_path: Path, master: MasterKey) -> None:
    with KeyStore.open(store_path, master) as store:
        keys = store.data_keys([ANNA, BORIS])
    text = keys[ANNA].encrypt_text("email", "anna@example.test")
    assert text is not None and text.startswith("enc:") and "anna" not in text
    assert keys[ANNA].decrypt_text("email", text) == "anna@example.test"
    assert keys[ANNA].encrypt_text("email", None) is None

    with pytest.raises(DecryptionError, match="'phone'"):
        keys[ANNA].decrypt_text("phone", text)
    with pytest.raises(DecryptionError):
        keys[BORIS].decrypt_text("email", text)
    raw = bytearray(from_text(text))
    raw[-1] ^= 1
    with pytest.raises(DecryptionError):
        keys[ANNA].decrypt("email", bytes(raw))


def test_another_master_key_opens_nothing(store_path: Path, master: MasterKey) -> None:
    KeyStore.open(store_path, master).close()
    with pytest.raises(KeyStoreError, match="is under master key"):
        KeyStore.open(store_path, MasterKey.generate())


def test_forgetting_a_subject_shreds_its_key_from_the_file_and_its_ciphertext_no_longer_opens(
    store_path: Path, master: MasterKey
) -> None:
    others = [Subject("crm", f"other-{i}") for i in range(200)]
    with KeyStore.open(store_path, master) as store:
        keys = store.data_keys([ANNA, *others])
        ciphertext = keys[ANNA].encrypt_text("national_id", "AB123456C")
    anna_wrapped = wrapped_bytes(store_path, ANNA)
    other_wrapped = wrapped_bytes(store_path, others[100])
    assert anna_wrapped in files_bytes(store_path)
    assert not any(k.secret in files_bytes(store_path) for k in keys.values()), "a data key stored unwrapped"

    with KeyStore.open(store_path, master) as store:
        assert store.forget([ANNA, Subject("crm", "never-existed")]) == 1

    content = files_bytes(store_path)
    assert anna_wrapped not in content, "secure_delete must overwrite the deleted key in the file"
    assert other_wrapped in content
    with KeyStore.open(store_path, master) as store:
        with pytest.raises(SubjectForgotten):
            store.key_for_decrypt(ANNA)
        assert ANNA not in store.existing_keys([ANNA, others[0]])
        # A key made for the same record later is a new key: the old ciphertext stays unreadable.
        fresh = store.data_key(ANNA)
        with pytest.raises(DecryptionError):
            fresh.decrypt_text("national_id", ciphertext)
        assert store.key_for_decrypt(others[0]).secret == keys[others[0]].secret


def _keys_in_a_process(path: str, secret: bytes, count: int) -> dict[str, str]:
    import hashlib

    with KeyStore.open(Path(path), MasterKey(secret, "test")) as store:
        keys = store.data_keys(Subject("crm", f"c{i}") for i in range(count))
    return {s.source_record_id: hashlib.sha256(k.secret).hexdigest() for s, k in keys.items()}


def test_two_processes_asking_for_the_same_subjects_get_the_same_keys(store_path: Path, master: MasterKey) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    KeyStore.open(store_path, master).close()
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        runs = [pool.submit(_keys_in_a_process, str(store_path), master.secret, 3000) for _ in range(2)]
        first, second = (run.result(timeout=120) for run in runs)
    assert first == second and len(first) == 3000
    with KeyStore.open(store_path, master) as store:
        assert store.status().data_keys == 3000

"""Where the master key comes from, and how loudly the development key announces itself."""

from __future__ import annotations

import base64
import logging
import secrets
import stat
from pathlib import Path

import pytest

from privacy.keys.master_key import MasterKey, MasterKeyError, load_master_key, write_key_file


def test_a_brought_key_file_wins_over_the_value_and_the_dev_key(tmp_path: Path) -> None:
    brought = MasterKey.generate()
    write_key_file(tmp_path / "mine.key", brought)
    value = base64.b64encode(secrets.token_bytes(32)).decode()

    key = load_master_key(key_file=tmp_path / "mine.key", key_value=value, dev_key_path=tmp_path / "dev.key")

    assert key.secret == brought.secret and not key.is_dev
    assert not (tmp_path / "dev.key").exists()


def test_the_value_is_used_when_no_file_is_named(tmp_path: Path) -> None:
    secret = secrets.token_bytes(32)
    key = load_master_key(key_file="", key_value=base64.b64encode(secret).decode(), dev_key_path=tmp_path / "dev.key")
    assert key.secret == secret and key.origin == "HUB_MASTER_KEY"
    assert not (tmp_path / "dev.key").exists()


def test_the_dev_key_is_generated_once_with_mode_0600_and_warns_at_every_load(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dev = tmp_path / "state" / "master.key"
    with caplog.at_level(logging.WARNING):
        first = load_master_key(key_file=None, key_value=None, dev_key_path=dev)
        second = load_master_key(key_file=None, key_value=None, dev_key_path=dev)

    assert first.is_dev and first.secret == second.secret
    assert stat.S_IMODE(dev.stat().st_mode) == 0o600
    warnings = [r for r in caplog.records if "DEVELOPMENT MASTER KEY" in r.getMessage()]
    assert len(warnings) == 2
    assert base64.b64encode(first.secret).decode() not in caplog.text


@pytest.mark.parametrize(
    ("text", "problem"),
    [("not base64 at all!", "not base64"), (base64.b64encode(b"short").decode(), "has 5")],
)
def test_a_bad_key_file_is_named_in_a_clear_error(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "bad.key"
    path.write_text(text)
    path.chmod(0o600)
    with pytest.raises(MasterKeyError, match=problem) as error:
        load_master_key(key_file=path, key_value=None, dev_key_path=tmp_path / "dev.key")
    assert str(path) in str(error.value)


def test_the_key_id_names_the_key_without_revealing_it() -> None:
    key = MasterKey.generate()
    assert key.key_id == MasterKey(key.secret, "elsewhere").key_id
    assert key.key_id != MasterKey.generate().key_id
    assert key.key_id not in key.secret.hex() and key.secret.hex() not in repr(key)

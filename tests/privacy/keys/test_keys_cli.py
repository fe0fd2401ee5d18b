"""`rotate-master-key` and `keys-status`, added to a Typer app and run on a real data root."""

from __future__ import annotations

import base64

import pytest
import typer
from typer.testing import CliRunner

from hub.keys_cli import add_key_commands
from privacy.keys.envelope import Subject
from privacy.keys.keystore import KeyStore, KeyStoreError
from privacy.keys.master_key import MasterKey, read_key_file, write_key_file
from warehouse.layout import HubPaths

ANNA = Subject("crm", "contact-17")


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _privacy() -> None:
        """Privacy."""

    add_key_commands(app)
    return app


@pytest.fixture(autouse=True)
def no_brought_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUB_MASTER_KEY_FILE", raising=False)
    monkeypatch.delenv("HUB_MASTER_KEY", raising=False)


def test_rotating_the_dev_key_replaces_it_and_old_data_still_decrypts(app: typer.Typer, hub_paths: HubPaths) -> None:
    runner = CliRunner()
    status = runner.invoke(app, ["keys-status"])
    assert status.exit_code == 0, status.output
    old = read_key_file(hub_paths.dev_master_key)
    assert f"master key: {old.key_id}" in status.output and "DEVELOPMENT KEY" in status.output
    with KeyStore.open(hub_paths.key_store, old) as store:
        ciphertext = store.data_key(ANNA).encrypt_text("phone", "+8613800138000")

    result = runner.invoke(app, ["rotate-master-key"])

    assert result.exit_code == 0, result.output
    assert "rewrapped 1 data keys" in result.output
    new = read_key_file(hub_paths.dev_master_key)
    assert new.key_id != old.key_id and f"master key {old.key_id} is retired" in result.output
    assert base64.b64encode(new.secret).decode() not in result.output
    assert not hub_paths.dev_master_key.with_name("master.key.new").exists()
    with KeyStore.open(hub_paths.key_store, new) as store:
        assert store.key_for_decrypt(ANNA).decrypt_text("phone", ciphertext) == "+8613800138000"
    with pytest.raises(KeyStoreError, match="retired"):
        KeyStore.open(hub_paths.key_store, old)
    after = runner.invoke(app, ["keys-status"])
    assert f"retired master keys: {old.key_id}" in after.output and "data keys: 1" in after.output


def test_a_brought_key_is_rotated_only_to_a_brought_key(
    app: typer.Typer, hub_paths: HubPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = MasterKey.generate(), MasterKey.generate()
    old_file, new_file = hub_paths.root / "old.key", hub_paths.root / "new.key"
    write_key_file(old_file, old)
    write_key_file(new_file, new)
    monkeypatch.setenv("HUB_MASTER_KEY_FILE", str(old_file))
    with KeyStore.open(hub_paths.key_store, old) as store:
        ciphertext = store.data_key(ANNA).encrypt_text("email", "anna@example.test")
    runner = CliRunner()

    refused = runner.invoke(app, ["rotate-master-key"])
    assert refused.exit_code == 2 and "--new-key-file" in refused.output
    assert old_file.read_text().strip() == base64.b64encode(old.secret).decode()

    result = runner.invoke(app, ["rotate-master-key", "--new-key-file", str(new_file)])
    assert result.exit_code == 0, result.output
    assert f"HUB_MASTER_KEY_FILE={new_file}" in result.output
    assert not hub_paths.dev_master_key.exists()

    stale = runner.invoke(app, ["keys-status"])
    assert stale.exit_code == 2 and "retired" in stale.output
    monkeypatch.setenv("HUB_MASTER_KEY_FILE", str(new_file))
    assert runner.invoke(app, ["keys-status"]).exit_code == 0
    with KeyStore.open(hub_paths.key_store, new) as store:
        assert store.key_for_decrypt(ANNA).decrypt_text("email", ciphertext) == "anna@example.test"


def test_a_rotation_interrupted_before_the_dev_key_was_replaced_is_finished(
    app: typer.Typer, hub_paths: HubPaths
) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["keys-status"]).exit_code == 0
    old = read_key_file(hub_paths.dev_master_key)
    pending = hub_paths.dev_master_key.with_name("master.key.new")
    adopted = MasterKey.generate()
    write_key_file(pending, adopted)
    with KeyStore.open(hub_paths.key_store, old) as store:
        ciphertext = store.data_key(ANNA).encrypt_text("email", "anna@example.test")
        store.rotate(adopted)  # committed, then the process died before the rename

    result = runner.invoke(app, ["rotate-master-key"])

    assert result.exit_code == 0, result.output
    assert "finished an interrupted rotation" in result.output
    assert f"master key {adopted.key_id} is retired" in result.output
    with KeyStore.open(hub_paths.key_store, read_key_file(hub_paths.dev_master_key)) as store:
        assert store.key_for_decrypt(ANNA).decrypt_text("email", ciphertext) == "anna@example.test"

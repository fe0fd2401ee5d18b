"""Key commands (`rotate-master-key`, `keys-status`), added to a Typer app by `add_key_commands`.

The master key comes from ``HUB_MASTER_KEY_FILE``, else ``HUB_MASTER_KEY``, else the generated
development key under the data root; only this module and the Dagster resources read them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from pipelines.environment import hub_paths
from privacy.keys.keystore import KeyStore, KeyStoreError
from privacy.keys.master_key import (
    MASTER_KEY_FILE_VAR,
    MASTER_KEY_VAR,
    MasterKey,
    MasterKeyError,
    load_master_key,
    read_key_file,
    write_key_file,
)
from warehouse.layout import HubPaths


def master_key_from_env(paths: HubPaths) -> MasterKey:
    return load_master_key(
        key_file=os.environ.get(MASTER_KEY_FILE_VAR),
        key_value=os.environ.get(MASTER_KEY_VAR),
        dev_key_path=paths.dev_master_key,
    )


def _fail(command: str, message: str) -> NoReturn:
    typer.echo(f"hub privacy {command}: {message}", err=True)
    raise typer.Exit(2)


def _pending_dev_key(paths: HubPaths) -> Path:
    return paths.dev_master_key.with_name(paths.dev_master_key.name + ".new")


def _finish_interrupted_rotation(paths: HubPaths) -> None:
    """A pending dev key the store already adopted replaces the old one; any other is dropped."""
    pending = _pending_dev_key(paths)
    if not pending.exists() or not paths.key_store.exists():
        pending.unlink(missing_ok=True)
        return
    try:
        KeyStore.open(paths.key_store, read_key_file(pending)).close()
    except (MasterKeyError, KeyStoreError):
        pending.unlink()
        return
    os.replace(pending, paths.dev_master_key)
    typer.echo(f"finished an interrupted rotation: {paths.dev_master_key} is the new development key")


def _rotate(paths: HubPaths, new_key_file: Path | None) -> None:
    if not os.environ.get(MASTER_KEY_FILE_VAR) and not os.environ.get(MASTER_KEY_VAR):
        _finish_interrupted_rotation(paths)
    current = master_key_from_env(paths)
    pending: Path | None = None
    if new_key_file is not None:
        new = read_key_file(new_key_file)
    elif current.is_dev:
        # The new dev key is written beside the old one first, so a crash leaves both on disk.
        pending = _pending_dev_key(paths)
        new = MasterKey.generate(str(paths.dev_master_key))
        write_key_file(pending, new)
    else:
        _fail(
            "rotate-master-key",
            f"the master key comes from {current.origin}; bring the new one with --new-key-file "
            "(the hub does not overwrite a key it was given)",
        )
    with KeyStore.open(paths.key_store, current) as store:
        rotation = store.rotate(new)
    if pending is not None:
        os.replace(pending, paths.dev_master_key)
    elif current.is_dev:
        paths.dev_master_key.unlink()
    typer.echo(
        f"rewrapped {rotation.data_keys:,} data keys and {rotation.secrets} other keys under master key "
        f"{rotation.new_key_id}; master key {rotation.old_key_id} is retired and opens nothing in {paths.key_store}"
    )
    if new_key_file is not None:
        typer.echo(f"from now on set {MASTER_KEY_FILE_VAR}={new_key_file}")
    if not current.is_dev:
        typer.echo(f"destroy the retired master key ({current.origin}) and every copy of it")


def add_key_commands(app: typer.Typer) -> None:
    """Add `rotate-master-key` and `keys-status` to ``app``."""

    @app.command("rotate-master-key")
    def rotate_master_key(
        new_key_file: Annotated[
            Path | None,
            typer.Option(
                help="The new master key (32 bytes in base64, one line). Without it, only a "
                "generated development key is replaced by a fresh generated one."
            ),
        ] = None,
    ) -> None:
        """Rewrap every data key under a new master key and retire the current one; no data is rewritten."""
        try:
            _rotate(hub_paths(), new_key_file)
        except (MasterKeyError, KeyStoreError) as error:
            _fail("rotate-master-key", str(error))

    @app.command("keys-status")
    def keys_status() -> None:
        """The master key in use (its id, never the key), where it comes from, and how many data keys exist."""
        paths = hub_paths()
        try:
            master = master_key_from_env(paths)
            with KeyStore.open(paths.key_store, master) as store:
                status = store.status()
        except (MasterKeyError, KeyStoreError) as error:
            _fail("keys-status", str(error))
        typer.echo(f"key store: {status.path}")
        typer.echo(f"master key: {status.master_key_id} from {master.origin}{' (DEVELOPMENT KEY)' if master.is_dev else ''}")
        typer.echo(f"data keys: {status.data_keys:,}")
        typer.echo(f"retired master keys: {', '.join(status.retired_master_keys) or 'none'}")

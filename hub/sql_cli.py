"""`hub sql --role ROLE [--as USER] [-c SQL]`: a role's own database, and nothing else.

With ``-c`` the query runs on the role's published file and prints CSV with a header; without,
the DuckDB CLI opens there, read-only. The file's key comes from the key store (under the master
key the environment names) and reaches the CLI through an init script read from a pipe, so it
appears in no argument list, shell history or log. A role whose file was built under another
version of the policy is re-published from the warehouse first.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import duckdb
import typer

from hub.keys_cli import master_key_from_env
from pipelines.environment import hub_paths
from privacy.keys.keystore import KeyStore, KeyStoreError
from privacy.keys.master_key import MasterKeyError
from privacy.roles import Policy, PolicyError, load_policy
from warehouse.database import DatabaseFile, attach_sql, connect, database_key
from warehouse.layout import HubPaths
from warehouse.role_databases import (
    ENGINEER_ROLE,
    KeyFor,
    publish_roles,
    published_digest,
    role_database,
)


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"hub sql: {message}", err=True)
    raise typer.Exit(code)


def _key_for(paths: HubPaths) -> tuple[KeyStore, KeyFor]:
    store = KeyStore.open(paths.key_store, master_key_from_env(paths))
    return store, (lambda name: database_key(store, name))


def engineer_database(paths: HubPaths) -> DatabaseFile:
    """The data engineers' full copy (published/warehouse.duckdb) with its key."""
    store, key_for = _key_for(paths)
    try:
        return role_database(paths.published, ENGINEER_ROLE, None, key_for)
    finally:
        store.close()


def _republish(paths: HubPaths, policy: Policy, role: str, key_for: KeyFor) -> None:
    from pipelines.defs.privacy.roles import redactor_for

    warehouse = DatabaseFile(paths.warehouse_db)
    if not warehouse.path.exists():
        _fail("the warehouse is not built yet: run `hub run` first")
    typer.echo(f"the policy changed since {role}'s database was published: re-publishing it", err=True)
    publish_roles(warehouse, paths.published, policy, key_for, redactor_for(warehouse), [role])


def role_file(paths: HubPaths, policy: Policy, role: str, user: str | None) -> DatabaseFile:
    """The role's database with its key, re-published first if the policy changed."""
    spec = policy.role(role)
    if spec.per_user and user is None:
        _fail(f"role {role} has one database per user: name the user with --as")
    if not spec.per_user and user is not None:
        _fail(f"role {role} has one database for everyone: --as does not apply")
    store, key_for = _key_for(paths)
    try:
        db = role_database(paths.published, role, user, key_for)
        if role != ENGINEER_ROLE and db.path.exists() and published_digest(db) != policy.digest:
            _republish(paths, policy, role, key_for)
    finally:
        store.close()
    if not db.path.exists():
        if spec.per_user:
            _fail(f"no {role} database for {user!r}: not a user of that role, or not published yet")
        _fail(f"{role}'s database is not published yet: run `hub run` first")
    return db


def _print_csv(db: DatabaseFile, query: str) -> None:
    with connect(db) as con:
        cursor = con.execute(query)
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow([d[0] for d in cursor.description or []])
        while rows := cursor.fetchmany(10_000):
            writer.writerows(rows)


def _open_cli(db: DatabaseFile, role: str) -> int:
    cli = Path(sys.executable).with_name("duckdb")
    if not cli.exists():
        _fail(f"the DuckDB CLI is not installed beside {sys.executable}; run `make install`")
    read, write = os.pipe()
    script = f"{attach_sql(db, role)};\nuse {role};\n"
    os.write(write, script.encode())
    os.close(write)
    try:
        return subprocess.call([str(cli), "-init", f"/dev/fd/{read}"], pass_fds=(read,))
    finally:
        os.close(read)


def add_sql_command(app: typer.Typer) -> None:
    @app.command("sql")
    def sql(
        role: Annotated[str, typer.Option("--role", help="The role whose database to open (privacy/policy.yaml).")],
        user: Annotated[str | None, typer.Option("--as", help="The user, for a role with one database per user (sales_rep: the CRM owner id).")] = None,
        command: Annotated[str | None, typer.Option("-c", help="Run this one query and print CSV with a header.")] = None,
    ) -> None:
        """Query a role's own encrypted database, or open the DuckDB CLI on it."""
        paths = hub_paths()
        try:
            policy = load_policy()
            db = role_file(paths, policy, role, user)
        except (PolicyError, MasterKeyError, KeyStoreError) as error:
            _fail(str(error))
        if command is None:
            raise typer.Exit(_open_cli(db, role))
        try:
            _print_csv(db, command)
        except duckdb.Error as error:
            _fail(str(error).splitlines()[0], 1)

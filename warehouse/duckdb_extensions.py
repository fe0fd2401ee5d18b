"""DuckDB connections with the hub's extensions, loaded from the installed packages.

DuckDB writes an encrypted database only with a full crypto module, which its ``httpfs``
extension brings (OpenSSL); without it DuckDB can read encrypted files but refuses to write
them. Extensions cannot be downloaded here, so the hub takes the signed binaries that the PyPI
packages ``duckdb-ext-httpfs``, ``duckdb-ext-delta`` and ``duckdb-ext-fts`` install under
``duckdb_ext/extensions/v<version>/<platform>/`` and loads them by path. Signature checks stay
on (``allow_unsigned_extensions`` is never set), and nothing is installed or autoloaded.

This module is the one place that knows where the binaries are: every connection that writes an
encrypted file comes from :func:`connect`.
"""

from __future__ import annotations

import importlib.util
import platform
from functools import cache
from pathlib import Path

import duckdb

# What a hub connection never does on its own: reach for the network or a user's ~/.duckdb.
SAFE_CONFIG: dict[str, str | bool] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
}
# Loaded into every connection: httpfs for encrypted writes. delta and fts are loaded on demand.
DEFAULT_EXTENSIONS = ("httpfs",)


class ExtensionError(RuntimeError):
    """A packaged DuckDB extension is missing or does not fit the installed DuckDB."""


def _platform() -> str:
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    system = {"Darwin": "osx"}.get(platform.system(), platform.system().lower())
    return f"{system}_{arch}"


@cache
def extension_dir() -> Path:
    """The folder of signed extension binaries for the installed DuckDB and this platform."""
    spec = importlib.util.find_spec("duckdb_ext")
    if spec is None or not spec.submodule_search_locations:
        raise ExtensionError(
            "the DuckDB extension packages (duckdb-ext-httpfs, duckdb-ext-delta, duckdb-ext-fts) "
            "are not installed; run `make install`"
        )
    version = duckdb.__version__
    for location in spec.submodule_search_locations:
        folder = Path(location) / "extensions" / f"v{version}" / _platform()
        if folder.is_dir():
            return folder
    raise ExtensionError(
        f"no packaged DuckDB extensions for DuckDB v{version} on {_platform()} under "
        f"{list(spec.submodule_search_locations)}: the duckdb-ext-* packages must match duckdb's version"
    )


def extension_path(name: str) -> Path:
    path = extension_dir() / f"{name}.duckdb_extension"
    if not path.is_file():
        raise ExtensionError(f"the DuckDB extension {name!r} is not packaged at {path}")
    return path


def load(con: duckdb.DuckDBPyConnection, *names: str) -> duckdb.DuckDBPyConnection:
    """Load the named packaged extensions (default: httpfs) into ``con``, signature-checked."""
    for name in names or DEFAULT_EXTENSIONS:
        path = str(extension_path(name)).replace("'", "''")
        con.execute(f"load '{path}'")
    return con


def quiet(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """No progress bar: it would print into a command's CSV output and the run logs."""
    con.execute("set enable_progress_bar = false")
    return con


def connect(
    database: str | Path = ":memory:",
    *,
    read_only: bool = False,
    config: dict[str, str | bool] | None = None,
    extensions: tuple[str, ...] = DEFAULT_EXTENSIONS,
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the safe settings and the packaged extensions loaded."""
    con = duckdb.connect(str(database), read_only=read_only, config={**SAFE_CONFIG, **(config or {})})
    try:
        quiet(con)
        return load(con, *extensions)
    except BaseException:
        con.close()
        raise

"""Roles from the declarative policy (``privacy/policy.yaml``), turned into SQL.

Each role's database holds only what the policy lists: its tables, of each table only the listed
columns, each through its mask, and only the rows its filter keeps. Nothing is published by
default: an unlisted column is absent, and a policy that names a column the warehouse does not
have fails, naming the role, the table and the column, rather than publishing less or more than
the officer read. Masks are SQL, except ``redacted``, whose free text goes through the detector
(the caller applies it to the columns that :attr:`TableQuery.redact` names).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

POLICY_FILE = Path(__file__).with_name("policy.yaml")
USER_PLACEHOLDER = "{user}"
# CRM owner ids and other user names: what a file name and a SQL literal can both hold safely.
USER_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")

# mask -> (SQL over the column {c}, the published column's name or None for the same name)
MASKS: dict[str, tuple[str, str | None]] = {
    "keep": ("{c}", None),
    "email_masked": (r"regexp_replace({c}, '^([^@])[^@]*@', '\1***@')", None),
    "phone_last4": ("case when {c} is null then null else '***' || right({c}, 4) end", None),
    "birth_year": ("year({c})", "birth_year"),
    "initial": ("case when {c} is null then null else left({c}, 1) || '.' end", None),
    "redacted": ("{c}", None),
}
DROP = "drop"


class PolicyError(ValueError):
    """The policy file is not valid: the message names the role, table and field."""


@dataclass(frozen=True)
class TablePolicy:
    name: str
    source: str  # schema.table in the warehouse
    rows: str  # "all", "none" or a SQL condition (may hold {user})
    columns: dict[str, str] | None  # column -> mask; None means every column, kept


@dataclass(frozen=True)
class RolePolicy:
    name: str
    description: str
    tables: tuple[TablePolicy, ...] | None  # None: every table of the warehouse (data_engineer)
    per_user: bool = False
    users_sql: str | None = None

    @property
    def everything(self) -> bool:
        return self.tables is None


@dataclass(frozen=True)
class Policy:
    roles: dict[str, RolePolicy]
    digest: str  # sha256 of the file: a changed policy re-publishes the role databases

    def role(self, name: str) -> RolePolicy:
        try:
            return self.roles[name]
        except KeyError:
            raise PolicyError(f"no role {name!r} in the policy; roles: {', '.join(sorted(self.roles))}") from None


@dataclass(frozen=True)
class TableQuery:
    name: str
    sql: str
    redact: tuple[str, ...]  # published columns whose free text the caller redacts


def _table(role: str, name: str, spec: Any) -> TablePolicy:
    where = f"role {role}, table {name}"
    if not isinstance(spec, dict) or "from" not in spec:
        raise PolicyError(f"{where}: needs `from: schema.table`")
    source = str(spec["from"])
    if not re.fullmatch(r"[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*", source):
        raise PolicyError(f"{where}: `from` must be schema.table, not {source!r}")
    rows = str(spec.get("rows", "none")).strip()
    columns = spec.get("columns")
    if columns == "all":
        return TablePolicy(name, source, rows, None)
    if not isinstance(columns, dict) or not columns:
        raise PolicyError(f"{where}: `columns` must list columns with their masks, or be `all`")
    for column, mask in columns.items():
        if mask != DROP and mask not in MASKS:
            raise PolicyError(f"{where}, column {column}: unknown mask {mask!r}; masks: "
                              f"{', '.join([*MASKS, DROP])}")
    return TablePolicy(name, source, rows, {str(c): str(m) for c, m in columns.items()})


def parse_policy(text: str, origin: str = "policy") -> Policy:
    data = yaml.safe_load(text) or {}
    if data.get("version") != 1 or not isinstance(data.get("roles"), dict):
        raise PolicyError(f"{origin}: expected `version: 1` and a `roles:` mapping")
    roles = {}
    for name, spec in data["roles"].items():
        tables = spec.get("tables")
        per_user = bool(spec.get("one_database_per_user", False))
        users_sql = spec.get("users")
        if per_user and not users_sql:
            raise PolicyError(f"{origin}: role {name} has one database per user but no `users` query")
        if tables == "all":
            roles[name] = RolePolicy(name, str(spec.get("description", "")).strip(), None)
            continue
        if not isinstance(tables, dict):
            raise PolicyError(f"{origin}: role {name} needs `tables:` (a mapping, or `all`)")
        parsed = tuple(_table(name, t, s) for t, s in tables.items())
        for t in parsed:
            if USER_PLACEHOLDER in t.rows and not per_user:
                raise PolicyError(f"{origin}: role {name}, table {t.name}: rows use {{user}} but the "
                                  "role has no database per user")
        roles[name] = RolePolicy(name, str(spec.get("description", "")).strip(), parsed, per_user,
                                 str(users_sql) if users_sql else None)
    return Policy(roles, hashlib.sha256(text.encode()).hexdigest())


def load_policy(path: Path = POLICY_FILE) -> Policy:
    return parse_policy(path.read_text(encoding="utf-8"), str(path))


def check_user(user: str) -> str:
    if not USER_PATTERN.match(user):
        raise PolicyError(f"user {user!r} is not a valid user name (letters, digits, _ . @ -)")
    return user


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _rows(table: TablePolicy, user: str | None) -> str:
    rows = table.rows
    if rows == "all":
        return "true"
    if rows == "none":
        return "false"
    if USER_PLACEHOLDER in rows:
        if user is None:
            raise PolicyError(f"table {table.name}: its rows depend on the user, and none was given")
        rows = rows.replace(USER_PLACEHOLDER, "'" + check_user(user) + "'")
    return f"({rows})"


def table_query(table: TablePolicy, source_columns: list[str], user: str | None = None,
                catalog: str = "source") -> TableQuery:
    """The SELECT that publishes ``table`` from ``catalog``: masked columns, filtered rows."""
    source = f"{catalog}.{table.source}"
    if table.columns is None:
        select = ", ".join(_ident(c) for c in source_columns)
        redact: list[str] = []
    else:
        missing = [c for c in table.columns if c not in source_columns]
        if missing:
            raise PolicyError(f"table {table.name}: {table.source} has no column {', '.join(missing)}")
        parts, redact = [], []
        for column, mask in table.columns.items():
            if mask == DROP:
                continue
            sql, renamed = MASKS[mask]
            out = renamed or column
            parts.append(f"{sql.format(c=_ident(column))} as {_ident(out)}")
            if mask == "redacted":
                redact.append(out)
        select = ", ".join(parts)
    return TableQuery(table.name, f"select {select} from {source} where {_rows(table, user)}", tuple(redact))

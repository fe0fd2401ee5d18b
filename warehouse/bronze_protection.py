"""What bronze encrypts, under whose key, and the join keys it stores beside the ciphertext.

The rule is the contract's: a field whose declared PII type and level make it a direct
identifier (``privacy.pii_types.is_direct_identifier``) is stored as ciphertext
(``enc:...``, AES-256-GCM) under the data key of its subject record. So is every value of the
schema-drift column ``_extra`` (its keys stay readable, so drift is still reported and
classified by name) and every quarantined ``_raw`` payload: nobody has classified them, and
unknown means protected.

The subject of a bronze row is ``(<source>/<entity>, <key>)``, the key's parts joined by ``:``
(``("crm/contacts", "C-1")``); a quarantined row, which may have no valid key, is its own
subject ``(quarantine/<source>/<entity>, <_record_hash>)``. Forgetting a subject's key makes
every copy of its ciphertext unreadable.

Emails, phones and national IDs also get a join key, ``_jk_<field>``: the HMAC of the value as
identity standardisation normalises it, so records can be looked up, joined and blocked on it
without decrypting anything.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from identity.standardise import contact, identifiers
from privacy.keys.envelope import Subject
from privacy.keys.vault import Vault
from privacy.pii_types import is_direct_identifier
from quality.contracts import CONTRACTS, EntityContract
from warehouse import delta_store
from warehouse.layout import HubPaths

EXTRA = "_extra"
RAW = "_raw"
JOIN_KEY_PREFIX = "_jk_"
# The join-key kind of each PII type that has one.
JOIN_KINDS = {"EMAIL_ADDRESS": "email", "PHONE_NUMBER": "phone", "NATIONAL_ID": "national_id"}



def protected_fields(contract: EntityContract) -> tuple[str, ...]:
    """The contract fields stored encrypted in bronze."""
    return tuple(n for n, f in contract.fields.items() if is_direct_identifier(f.pii, f.level))



def join_key_fields(contract: EntityContract) -> tuple[tuple[str, str], ...]:
    """(field, kind) of every field that gets a join key."""
    return tuple((n, JOIN_KINDS[f.pii]) for n, f in contract.fields.items() if f.pii in JOIN_KINDS)


def join_key_column(field_name: str) -> str:
    return f"{JOIN_KEY_PREFIX}{field_name}"


def join_key_columns(contract: EntityContract) -> list[str]:
    return [join_key_column(n) for n, _ in join_key_fields(contract)]


def _country_field(contract: EntityContract) -> str | None:
    """The field that says which country a national phone number belongs to."""
    return next((n for n in contract.fields if n == "country" or n.endswith("_country")), None)


def subject_source(contract: EntityContract) -> str:
    return contract.name


def quarantine_subject_source(contract: EntityContract) -> str:
    return f"quarantine/{contract.name}"


def record_id(contract: EntityContract, row: dict[str, Any]) -> str:
    return ":".join("" if row.get(k) is None else str(row[k]) for k in contract.key)


def subjects_of(contract: EntityContract, rows: Sequence[dict[str, Any]]) -> list[Subject]:
    source = subject_source(contract)
    return [Subject(source, record_id(contract, r)) for r in rows]


def _normalised(kind: str, value: str | None, country: str | None) -> str | None:
    if kind == "email":
        return contact.email(value)
    if kind == "phone":
        return contact.phone_e164(value, identifiers.country(country))
    return identifiers.national_id(value)


def _extra_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def seal_rows(contract: EntityContract, rows: list[dict[str, Any]], vault: Vault) -> list[dict[str, Any]]:
    """``rows`` with join keys added and every protected value encrypted (new dicts)."""
    if not rows:
        return []
    subjects = subjects_of(contract, rows)
    out = [dict(r) for r in rows]
    country = _country_field(contract)
    for name, kind in join_key_fields(contract):
        column = join_key_column(name)
        for row in out:
            row[column] = vault.join_keys.of(kind, _normalised(kind, row.get(name), row.get(country) if country else None))
    for name in protected_fields(contract):
        sealed = vault.seal(subjects, name, [r.get(name) for r in out])
        for row, value in zip(out, sealed, strict=True):
            row[name] = value
    for row, subject in zip(out, subjects, strict=True):
        if row.get(EXTRA):
            row[EXTRA] = _seal_extra(row[EXTRA], subject, vault)
    return out


def _seal_extra(text: str, subject: Subject, vault: Vault) -> str:
    extra = json.loads(text)
    sealed = {k: vault.seal([subject], f"{EXTRA}.{k}", [None if v is None else _extra_text(v)])[0]
              for k, v in extra.items()}
    return json.dumps(sealed, ensure_ascii=False, sort_keys=True)


def seal_raw(contract: EntityContract, raws: Sequence[str], record_hashes: Sequence[str], vault: Vault) -> list[str | None]:
    """Quarantined payloads, each encrypted under its own quarantine subject."""
    source = quarantine_subject_source(contract)
    return vault.seal([Subject(source, h) for h in record_hashes], RAW, list(raws))


# Reading back: for the steps allowed cleartext (staging in dbt, free-text redaction) and tests.

def open_column(vault: Vault, source: str, record_ids: Sequence[str], field_name: str,
                values: Sequence[str | None]) -> list[str | None]:
    return vault.open_values([Subject(source, r) for r in record_ids], field_name, values)


def open_extra(vault: Vault, subject: Subject, text: str | None) -> str | None:
    if not text:
        return text
    extra = json.loads(text)
    opened = {k: None if v is None else vault.open_values([subject], f"{EXTRA}.{k}", [v])[0]
              for k, v in extra.items()}
    return json.dumps(opened, ensure_ascii=False, sort_keys=True)


def open_table(contract: EntityContract, table: pa.Table, vault: Vault) -> pa.Table:
    """A bronze table (or some of its columns, key included) with protected values in clear."""
    rows = table.to_pylist()
    subjects = subjects_of(contract, rows)
    for name in protected_fields(contract):
        if name in table.column_names:
            opened = vault.open_values(subjects, name, table.column(name).to_pylist())
            table = table.set_column(table.schema.get_field_index(name), name, pa.array(opened, pa.string()))
    if EXTRA in table.column_names:
        opened = [open_extra(vault, s, r.get(EXTRA)) for s, r in zip(subjects, rows, strict=True)]
        table = table.set_column(table.schema.get_field_index(EXTRA), EXTRA, pa.array(opened, pa.string()))
    return table


def open_quarantine(source: str, table: pa.Table, vault: Vault) -> pa.Table:
    """A source's quarantine rows with ``_raw`` in clear (each row names its entity and hash)."""
    rows = table.to_pylist()
    subjects = [Subject(quarantine_subject_source(CONTRACTS[f"{source}/{r['_entity']}"]), r["_record_hash"])
                for r in rows]
    opened = vault.open_values(subjects, RAW, [r[RAW] for r in rows])
    return table.set_column(table.schema.get_field_index(RAW), RAW, pa.array(opened, pa.string()))


def read_opened(paths: HubPaths, contract: EntityContract, vault: Vault) -> pa.Table | None:
    """A bronze table read through its Delta log, protected values in clear."""
    table = delta_store.read(paths.bronze_table(contract.source, contract.entity))
    return None if table is None else open_table(contract, table, vault)


def read_quarantine_opened(paths: HubPaths, source: str, vault: Vault) -> pa.Table | None:
    """A source's quarantine table, ``_raw`` payloads in clear."""
    table = delta_store.read(paths.quarantine_table(source))
    return None if table is None else open_quarantine(source, table, vault)

"""Join keys: deterministic keyed hashes (HMAC-SHA256) of normalised identifiers.

The same email, phone or national ID always gives the same join key, so tables can be joined,
blocked and looked up on it without cleartext; without the HMAC key nobody can test a guess.
The HMAC key is its own secret in the key store (wrapped by the master key like the data keys,
never derived from them), so a master-key rotation leaves every join key as it was, and
forgetting a subject's data key does not change the join keys of others.

The caller normalises first (the hub's standardisers in ``identity.standardise``: lower-cased
email, E.164 phone, upper-cased national ID without separators); this library sits beside
identity and does not import it. A value that still carries outer whitespace is refused, as a
sign it was not normalised.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field

KINDS = ("email", "phone", "national_id")


@dataclass(frozen=True)
class JoinKeys:
    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.key) < 32:
            raise ValueError("a join-key HMAC key has at least 32 bytes")

    def of(self, kind: str, normalised: str | None) -> str | None:
        """The join key (64 hex characters) of one normalised value of ``kind``; None stays None."""
        if kind not in KINDS:
            raise ValueError(f"unknown join-key kind {kind!r}; known: {', '.join(KINDS)}")
        if normalised is None or normalised == "":
            return None
        if normalised != normalised.strip():
            raise ValueError(f"a {kind} for a join key must be normalised first (it has outer whitespace)")
        message = kind.encode("ascii") + b"\x00" + normalised.encode("utf-8")
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def many(self, kind: str, values: Iterable[str | None]) -> list[str | None]:
        return [self.of(kind, value) for value in values]

    def email(self, normalised: str | None) -> str | None:
        return self.of("email", normalised)

    def phone(self, normalised: str | None) -> str | None:
        return self.of("phone", normalised)

    def national_id(self, normalised: str | None) -> str | None:
        return self.of("national_id", normalised)

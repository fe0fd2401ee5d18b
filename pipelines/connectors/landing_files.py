"""Reading file drops from landing folders, each file exactly once.

A file is identified by the SHA-256 of its bytes, not its name, so a file
delivered twice under two names is recognised as one delivery.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from quality.row_validation import RawRecord


@dataclass(frozen=True)
class LandedFile:
    path: Path
    sha256: str

    @property
    def batch_id(self) -> str:
        return f"file-{self.sha256[:24]}"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def list_files(folder: Path, pattern: str) -> list[LandedFile]:
    if not folder.is_dir():
        return []
    return [LandedFile(p, sha256_of(p)) for p in sorted(folder.glob(pattern)) if p.is_file()]


def _decode_line(raw: bytes) -> tuple[str, str | None]:
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return raw.decode("utf-8", errors="backslashreplace"), f"byte {exc.start}: {exc.reason}"


def read_jsonl(path: Path) -> Iterator[RawRecord]:
    """One raw record per non-blank line; decoding happens in validation so bad lines are kept."""
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            text, error = _decode_line(line.rstrip(b"\r\n"))
            if text.strip():
                yield RawRecord(number, text, error)


def read_csv(path: Path) -> Iterator[RawRecord]:
    """One raw record per data row; row numbers are file line numbers (header is line 1).

    Lines that are not valid UTF-8 are kept (backslash-escaped) and flagged, so validation
    quarantines them instead of the whole file failing or bytes being silently replaced.
    """
    lines = path.read_bytes().removeprefix(b"\xef\xbb\xbf").splitlines(keepends=True)
    decoded = [_decode_line(line) for line in lines]
    errors = {n: e for n, (_, e) in enumerate(decoded, start=1) if e}
    reader = csv.DictReader(io.StringIO("".join(text for text, _ in decoded), newline=""))
    for row in reader:
        yield RawRecord(reader.line_num, row, errors.get(reader.line_num))

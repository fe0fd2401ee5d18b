"""Reading file drops from landing folders, each file exactly once.

A file is identified by the SHA-256 of its bytes, not its name, so a file
delivered twice under two names is recognised as one delivery.

Partners write the landing folders, so nothing in them is trusted: only regular
files directly inside a folder are read, never a link or anything that resolves
outside it, and every other entry is reported rather than ignored in silence.
A file's name matches its folder's pattern whatever the case of its extension.
"""

from __future__ import annotations

import codecs
import csv
import fnmatch
import hashlib
import io
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from quality.row_validation import RawRecord

# Enough of a file to tell its encoding from its first characters.
_SNIFF_BYTES = 4096


class LandingFileRefused(Exception):
    """A landing path that is not a regular file inside its folder (a link, a pipe, a device)."""


@dataclass(frozen=True)
class LandedFile:
    path: Path
    sha256: str

    @property
    def batch_id(self) -> str:
        return f"file-{self.sha256[:24]}"


@dataclass(frozen=True)
class FolderSurvey:
    """What a landing folder holds: the files to land, and the entries refused or not expected, by name."""

    files: list[Path] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # "name: why"
    unexpected: list[str] = field(default_factory=list)

    def warnings(self) -> list[str]:
        return [f"refused {r}" for r in self.refused] + [
            f"unexpected {u}: does not match the folder's pattern, not landed" for u in self.unexpected
        ]


def matches(name: str, pattern: str) -> bool:
    """Whether a file name is one the folder expects; a hidden name is a delivery still being written."""
    return not name.startswith(".") and fnmatch.fnmatchcase(name.lower(), pattern.lower())


def survey(folder: Path, pattern: str) -> FolderSurvey:
    """Sort every entry of ``folder`` into files to land, refused entries and unexpected ones."""
    found = FolderSurvey()
    if not folder.is_dir():
        return found
    root = folder.resolve()
    with os.scandir(folder) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            path = folder / entry.name
            if entry.is_symlink():
                found.refused.append(f"{entry.name}: a symbolic link, only regular files are landed")
            elif entry.is_dir(follow_symlinks=False):
                found.unexpected.append(f"{entry.name}/")
            elif not entry.is_file(follow_symlinks=False):
                found.refused.append(f"{entry.name}: not a regular file")
            elif path.resolve().parent != root:
                found.refused.append(f"{entry.name}: resolves outside the landing folder")
            elif matches(entry.name, pattern):
                found.files.append(path)
            else:
                found.unexpected.append(entry.name)
    return found


def open_landed(path: Path) -> BinaryIO:
    """Open a landing file for reading only if it is, at this moment, a regular file and not a link."""
    try:
        # O_NONBLOCK: opening a named pipe must not wait for a writer before it can be refused.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if path.is_symlink():
            raise LandingFileRefused(f"{path}: a symbolic link, only regular files are landed") from None
        raise LandingFileRefused(f"{path}: cannot be opened ({exc.strerror})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise LandingFileRefused(f"{path}: not a regular file")
    return os.fdopen(fd, "rb")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open_landed(path) as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def list_files(folder: Path, pattern: str) -> list[LandedFile]:
    """The regular files of ``folder`` that match ``pattern``; see :func:`survey` for what is left out."""
    landed = []
    for path in survey(folder, pattern).files:
        try:
            landed.append(LandedFile(path, sha256_of(path)))
        except LandingFileRefused:
            continue  # swapped since the survey; the next survey reports it
    return landed


@dataclass(frozen=True)
class _Encoding:
    name: str  # as people know it
    codec: str  # as Python knows it, byte-order mark excluded
    skip: int  # bytes of byte-order mark
    clue: str


_BOMS = [  # UTF-32 first: its little-endian mark begins with UTF-16's
    (codecs.BOM_UTF32_LE, "UTF-32LE", "utf-32-le"),
    (codecs.BOM_UTF32_BE, "UTF-32BE", "utf-32-be"),
    (codecs.BOM_UTF16_LE, "UTF-16LE", "utf-16-le"),
    (codecs.BOM_UTF16_BE, "UTF-16BE", "utf-16-be"),
]


def _foreign_encoding(head: bytes) -> _Encoding | None:
    """The encoding of a file that is evidently not UTF-8, from its first bytes."""
    for bom, name, codec in _BOMS:
        if head.startswith(bom):
            return _Encoding(name, codec, len(bom), "byte-order mark")
    # UTF-16 without a mark: ASCII characters (the JSON or CSV punctuation) pair with a zero byte.
    even, odd = head[0::2], head[1::2]
    if len(head) >= 8:
        if even.count(0) == 0 and odd.count(0) > len(odd) // 2:
            return _Encoding("UTF-16LE", "utf-16-le", 0, "zero bytes between its characters")
        if odd.count(0) == 0 and even.count(0) > len(even) // 2:
            return _Encoding("UTF-16BE", "utf-16-be", 0, "zero bytes between its characters")
    return None


@dataclass(frozen=True)
class _Line:
    text: str  # with its line end, as the CSV parser needs it
    raw: bytes  # with its line end
    error: str | None


def _utf8_line(raw: bytes) -> _Line:
    try:
        return _Line(raw.decode("utf-8"), raw, None)
    except UnicodeDecodeError as exc:
        # Kept backslash-escaped and flagged, so validation quarantines the row and no byte is altered.
        return _Line(raw.decode("utf-8", errors="backslashreplace"), raw, f"byte {exc.start}: {exc.reason}")


def _utf8_lines(data: bytes) -> list[_Line]:
    return [_utf8_line(raw) for raw in data.splitlines(keepends=True)]


def _foreign_lines(data: bytes, encoding: _Encoding) -> list[_Line]:
    """Every line of a file in another encoding, readable, and each flagged with that encoding."""
    text = data[encoding.skip:].decode(encoding.codec, errors="backslashreplace")
    problem = f"the file is {encoding.name}, found by its {encoding.clue}"
    return [_Line(t, t.encode(encoding.codec), problem) for t in io.StringIO(text, newline="")]


def _lines(data: bytes) -> tuple[list[_Line], str]:
    """The file's lines and the codec that reads their raw bytes."""
    encoding = _foreign_encoding(data[:_SNIFF_BYTES])
    if encoding:
        return _foreign_lines(data, encoding), encoding.codec
    return _utf8_lines(data.removeprefix(codecs.BOM_UTF8)), "utf-8"


def _chomp(raw: bytes, codec: str) -> bytes:
    for end in ("\r\n", "\n", "\r"):
        suffix = end.encode(codec)
        if raw.endswith(suffix):
            return raw[: -len(suffix)]
    return raw


def read_jsonl(path: Path) -> Iterator[RawRecord]:
    """One raw record per non-blank line; decoding happens in validation so bad lines are kept."""
    with open_landed(path) as fh:
        head = fh.read(_SNIFF_BYTES)
        if _foreign_encoding(head) is not None:
            lines, codec = _lines(head + fh.read())
            for number, line in enumerate(lines, start=1):
                if line.text.strip():
                    yield RawRecord(number, line.text.rstrip("\r\n"), line.error,
                                    raw=_chomp(line.raw, codec), encoding=codec)
            return
        fh.seek(0)
        for number, data in enumerate(fh, start=1):
            line = _utf8_line(data.rstrip(b"\r\n").removeprefix(codecs.BOM_UTF8 if number == 1 else b""))
            if line.text.strip():
                yield RawRecord(number, line.text, line.error, raw=line.raw)


def read_csv(path: Path) -> Iterator[RawRecord]:
    """One raw record per data row, numbered by the file line it starts on (the header is line 1).

    Each record keeps the exact bytes of its line(s). Lines that are not valid UTF-8 are kept
    (backslash-escaped) and flagged, so validation quarantines them instead of the whole file
    failing or bytes being silently replaced.
    """
    with open_landed(path) as fh:
        lines, codec = _lines(fh.read())
    consumed = 0  # lines the parser has read so far; its own line_num stalls on a parse error

    def feed() -> Iterator[str]:
        nonlocal consumed
        for line in lines:
            consumed += 1
            yield line.text

    reader = csv.DictReader(feed())
    if reader.fieldnames is None:
        return
    done = consumed
    while True:
        problem = None
        try:
            row: dict = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            row, problem = {}, f"cannot be parsed as CSV ({exc})"
        span = lines[done:consumed]
        # The parser skips blank lines before a row; the row starts at its first non-blank line.
        skip = next((i for i, line in enumerate(span) if line.text.strip("\r\n")), 0)
        start, span = done + skip, span[skip:]
        done = consumed
        error = next((line.error for line in span if line.error), None)
        raw = _chomp(b"".join(line.raw for line in span), codec)
        yield RawRecord(start + 1, row, error, raw=raw, encoding=codec, parse_error=problem)

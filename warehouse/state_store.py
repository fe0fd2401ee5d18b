"""Small persisted state under ``state/``: cursors, watermarks and file ledgers.

Written atomically (temp file + rename) so that a crash never leaves a torn file;
every landing is also idempotent by record hash, so a cursor that lags behind
the data only costs a re-read, never a duplicate.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


class JsonState:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Any]:
        if not self.path.exists():
            return {}
        return json.loads(self.path.read_text(encoding="utf-8"))

    def get(self, key: str, default: Any = None) -> Any:
        return self.load().get(key, default)

    def update(self, values: dict[str, Any]) -> None:
        data = self.load()
        data.update(values)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True, ensure_ascii=False)
        os.replace(tmp, self.path)

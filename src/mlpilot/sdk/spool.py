"""The spool: encoded batches kept on disk while the server cannot take them, sent oldest first.

Each batch is one file holding exactly the gzip'd body that would have been posted, so a
spooled record keeps its id and the server stores it once however often it is re-sent. File
names sort by age (nanosecond clock, then a per-process sequence) and carry the number of
records, so the folder can be read without opening files. Files are written to a hidden
temporary name and renamed, so a reader never sees half a batch. The folder is bounded: when a
new batch takes it over ``max_bytes``, the oldest batches are deleted and their records counted
as dropped. Several processes may share a folder; a file that vanishes under us was sent by
another and is skipped.
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Spool", "SpoolFile"]

_SUFFIX = ".batch.gz"


@dataclass(frozen=True, order=True)
class SpoolFile:
    """One spooled batch: its path (names sort oldest first), records and size in bytes."""

    name: str
    path: Path
    records: int
    size: int


class Spool:
    """A bounded folder of batches waiting to be sent (created on first use)."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self._sequence = itertools.count()

    def put(self, body: bytes, records: int) -> int:
        """Keep a batch; return how many records older batches lost to the bound (the new one's
        own when it alone is over the bound). Raises OSError when the folder cannot be written."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{os.getpid()}-{next(self._sequence):09d}-{records}"
        temporary = self.folder / f".{name}.tmp"
        with open(temporary, "wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.folder / f"{name}{_SUFFIX}")
        return self._trim()

    def files(self) -> list[SpoolFile]:
        """The spooled batches, oldest first."""
        found: list[SpoolFile] = []
        try:
            entries = list(os.scandir(self.folder))
        except FileNotFoundError:
            return []
        for entry in entries:
            if entry.name.startswith(".") or not entry.name.endswith(_SUFFIX):
                continue
            stem = entry.name[: -len(_SUFFIX)]
            try:
                records = int(stem.rsplit("-", 1)[1])
                size = entry.stat().st_size
            except (IndexError, ValueError, FileNotFoundError):
                continue
            found.append(SpoolFile(entry.name, Path(entry.path), records, size))
        found.sort()
        return found

    def oldest(self) -> tuple[SpoolFile, bytes] | None:
        """The oldest batch and its body, or None when the spool is empty."""
        for spooled in self.files():
            try:
                return spooled, spooled.path.read_bytes()
            except FileNotFoundError:  # sent by another process meanwhile
                continue
        return None

    def remove(self, spooled: SpoolFile) -> None:
        spooled.path.unlink(missing_ok=True)

    def pending(self) -> tuple[int, int]:
        """(batches, records) waiting in the spool."""
        files = self.files()
        return len(files), sum(f.records for f in files)

    def _trim(self) -> int:
        files = self.files()
        total = sum(f.size for f in files)
        lost = 0
        for spooled in files:
            if total <= self.max_bytes:
                break
            try:
                spooled.path.unlink()
            except FileNotFoundError:
                pass
            else:
                lost += spooled.records
            total -= spooled.size
        return lost

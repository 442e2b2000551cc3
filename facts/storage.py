"""Crash-safe TinyDB storage for the fact store (facts added with ``kazkor facts add``).

TinyDB's own ``JSONStorage`` rewrites the file in place (seek, write, truncate): a crash in between leaves
a file that no longer parses. Here every write goes to a temporary file in the same folder, is flushed and
fsynced, then atomically renamed over the old file, and the folder is fsynced so the rename itself survives
a power cut. A reader therefore always sees either the old or the new file, never half of one.

This is a ``Storage`` subclass of its own (not a ``JSONStorage`` subclass, which keeps a stale handle on the
replaced file). It keeps the last state it read or wrote in memory: a ``facts.store.FactStore`` opens a
fresh one for each read and for each write (under the file's lock), so nothing stale is ever written.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

log = logging.getLogger(__name__)


class NotAStateFile(Exception):
    """``KAZKOR_DB`` names a file that is not a kazkor state file (nothing was changed)."""


class AtomicJSONStorage(Storage):
    def __init__(self, path: str | os.PathLike[str], **_: Any) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._cache: dict[str, dict[str, Any]] | None = None
        self.moved_aside: Path | None = None
        self.corruption_message: str | None = None
        # Only the writer (the holder of the state file's lock) moves a damaged file aside: a reader
        # (`kazkor ask` beside a running bot) reports it and answers from an empty state.
        self.may_move_aside = False

    def remove_leftovers(self) -> None:
        """Delete temp files a writer killed between mkstemp and rename left behind. Only the writer
        (the holder of the state file's lock) may: another process's temp file may be in use."""
        for leftover in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            leftover.unlink(missing_ok=True)

    def read(self) -> dict[str, dict[str, Any]] | None:
        if self._cache is None:
            self._cache = self._load()
        # TinyDB mutates what read() returned and hands it to write(); if that write fails, write()
        # drops the cache so the next read comes from the file again.
        return self._cache

    def _load(self) -> dict[str, dict[str, Any]] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        if not raw.strip():
            return None
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("top level is not an object")
            return data
        except ValueError as exc:
            if not raw.lstrip().startswith(b"{"):
                # A state file, even a torn one, starts with "{": this is someone else's file
                # (a mistyped KAZKOR_DB). Never rename or overwrite it.
                raise NotAStateFile(
                    f"KAZKOR_DB={self.path} is not a kazkor state file (not a JSON object); it was left "
                    f"untouched. Point KAZKOR_DB at the bot's state file, or at a new path."
                ) from None
            if not self.may_move_aside:
                message = (
                    f"state file {self.path} does not parse ({exc}); answering without it. It was left in "
                    f"place: kazkor run or post-due moves it aside when it starts."
                )
                log.warning(message)
                self.corruption_message = message
                return {}  # cached: not re-read (and re-reported) on every query
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
            os.replace(self.path, aside)
            self.moved_aside = aside
            message = (
                f"state file {self.path} does not parse ({exc}); moved it aside to {aside} and started "
                f"an empty state. Inspect or restore it by hand, then restart."
            )
            log.error(message)
            self.corruption_message = message
            return None

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        try:
            payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(payload)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            _fsync_dir(self.path.parent)
        except BaseException:
            self._cache = None
            raise
        self._cache = data

    def close(self) -> None:
        self._cache = None


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some platforms cannot open a directory; the rename is still atomic there
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

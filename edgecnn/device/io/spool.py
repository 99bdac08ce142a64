"""A durable, bounded, in-order on-disk queue of result records.

Network sinks write every result here first and delete it only once the far end confirmed
delivery, so results survive a broker outage, a crash or a reboot.

Storage is one sqlite3 file (stdlib): each batch of appends, each delete and each drop is one
atomic commit, so a power cut leaves either the old or the new state, never a half-written
line as an append-only text file can. WAL mode lets the producer append while the sender deletes.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

DEFAULT_MAX_RECORDS = 10_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('dropped', 0);
"""


class Spool:
    """Records in arrival order; the oldest are dropped (and counted) beyond ``max_records``.

    Thread-safe: one connection guarded by a lock, shared by the producer and the sender.
    """

    def __init__(
        self,
        directory: Path | str,
        *,
        max_records: int = DEFAULT_MAX_RECORDS,
        destination: str | None = None,
    ) -> None:
        """Opens (or creates) the spool in ``directory``.

        Args:
            directory: folder holding ``spool.sqlite3``; created when missing.
            max_records: how many undelivered records to keep at most.
            destination: the sink's identity; a spool holds one sink's results only.

        Raises:
            ValueError: the spool belongs to another destination.
        """
        if max_records < 1:
            raise ValueError("max_records must be at least 1")
        self.path = Path(directory).expanduser() / "spool.sqlite3"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_records = max_records
        self._lock = threading.Lock()
        # isolation_level=None: we issue BEGIN/COMMIT ourselves so each operation is one commit.
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        if destination is not None:
            self._claim(destination)

    def _claim(self, destination: str) -> None:
        """Marks the spool as ``destination``'s; refuses it when another sink's is in it."""
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO meta VALUES ('destination', ?)", (destination,)
            )
            (owner,) = self._db.execute(
                "SELECT value FROM meta WHERE key = 'destination'"
            ).fetchone()
        if owner != destination:
            self.close()
            raise ValueError(
                f"{self.path.parent} holds the results of another sink ({owner}); give each "
                "sink its own ?spool= folder, or send those first with that sink"
            )

    def append(self, record: dict) -> None:
        """Stores ``record`` last; drops the oldest records when the spool is over its bound."""
        self.append_many([record])

    def append_many(self, records: list[dict]) -> None:
        """Stores ``records`` last, in order, in one commit.

        One commit (one disk sync) per batch instead of per record is what lets the spool
        keep up with a model emitting thousands of results a second.
        """
        bodies = [(json.dumps(record),) for record in records]
        with self._lock, self._transaction():
            self._db.executemany("INSERT INTO records (body) VALUES (?)", bodies)
            excess = self._count() - self.max_records
            if excess > 0:
                self._db.execute(
                    "DELETE FROM records WHERE id IN (SELECT id FROM records ORDER BY id LIMIT ?)",
                    (excess,),
                )
                self._db.execute(
                    "UPDATE meta SET value = value + ? WHERE key = 'dropped'", (excess,)
                )

    def peek(self) -> tuple[int, dict] | None:
        """The oldest record and its id, or None when the spool is empty."""
        head = self.peek_many(1)
        return head[0] if head else None

    def peek_many(self, limit: int) -> list[tuple[int, dict]]:
        """The oldest ``limit`` records with their ids, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, body FROM records ORDER BY id LIMIT ?", (limit,)
            ).fetchall()
        return [(row[0], json.loads(row[1])) for row in rows]

    def remove(self, record_id: int) -> None:
        """Deletes a delivered record (a no-op when it was already dropped)."""
        self.remove_through(record_id, first=record_id)

    def remove_through(self, last_id: int, *, first: int = 0) -> None:
        """Deletes the records with ids ``first``..``last_id`` (delivered ones) in one commit."""
        with self._lock, self._transaction():
            self._db.execute("DELETE FROM records WHERE id BETWEEN ? AND ?", (first, last_id))

    @property
    def dropped(self) -> int:
        """Records lost to the bound, over the spool's whole life (persisted)."""
        with self._lock:
            return self._db.execute("SELECT value FROM meta WHERE key = 'dropped'").fetchone()[0]

    def __len__(self) -> int:
        with self._lock:
            return self._count()

    def close(self) -> None:
        """Closes the file; undelivered records stay for the next run."""
        with self._lock:
            self._db.close()

    def _count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM records").fetchone()[0]

    def _transaction(self):
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on error (the lock is held by the caller)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, *_) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")

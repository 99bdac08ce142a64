"""The child process of the TFLite Micro check: real allocations, which may crash it.

Kept apart from :mod:`edgecnn.targets.micro` so the child imports little more than
tflite-micro. It reads the .tflite on stdin and the search state (JSON) in argv[1], and
prints one JSON event a line, flushed, so that the parent knows which arena a crash hit.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field

from edgecnn.core.nativeio import capture_fd
from edgecnn.core.records import Record

# Larger than any MCU's RAM: a model that fails here fails for a reason other than size.
FIRST_ARENA_GUESS = 16 * 1024 * 1024
# TFLM aligns arena allocations to 16 bytes; finer bisection would only chase alignment.
ARENA_RESOLUTION = 16


@dataclass
class Search(Record):
    """The arena search, shared by the parent and its children.

    Invariant: ``low`` does not allocate (or is 0); ``high`` allocates (None until the
    roomy first arena did). ``hints`` are arenas to try before bisecting: around what the
    allocator reported using in the roomy arena, which a tight arena needs about as much of.
    """

    low: int = 0
    high: int | None = None
    hints: list[int] = field(default_factory=list)
    log: str = ""

    @property
    def finished(self) -> bool:
        """True when the search failed (``log`` says why) or narrowed to the resolution."""
        if self.log:
            return True
        return self.high is not None and self.high - self.low <= ARENA_RESOLUTION

    def next_arena(self) -> int:
        if self.high is None:
            return FIRST_ARENA_GUESS
        self.hints = [h for h in self.hints if self.low < h < self.high]
        middle = (self.low + self.high) // 2 // ARENA_RESOLUTION * ARENA_RESOLUTION
        return self.hints.pop(0) if self.hints else middle

    def apply(self, event: dict) -> None:
        """One allocation's outcome, in the child and replayed in the parent."""
        if "log" in event:
            self.log = event["log"]
        elif event["ok"]:
            self.high = event["arena"]
        else:
            self.low = event["arena"]
        if event.get("used"):  # kept on the 16-byte grid, like the bisection's middles
            used = -(-event["used"] // ARENA_RESOLUTION) * ARENA_RESOLUTION
            self.hints = [used, 2 * used]

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


def main() -> None:
    """Continues the search given in argv[1] on the model given on stdin."""
    from tflite_micro.python.tflite_micro import runtime

    tflite = sys.stdin.buffer.read()
    search = Search.from_dict(json.loads(sys.argv[1]))
    while not search.finished:
        arena = search.next_arena()
        _emit({"try": arena})
        ok, log = _allocates(runtime, tflite, arena)
        event = {"arena": arena, "ok": ok}
        if search.high is None:  # the roomy arena: why it failed, or what it used
            failed = log or "TFLite Micro failed to allocate the model"
            event |= {"used": _used_bytes(log)} if ok else {"log": failed}
        _emit(event)
        search.apply(event)


def _emit(event: dict) -> None:
    print(json.dumps(event), flush=True)  # flushed: the next allocation may crash the child


def _allocates(runtime, tflite: bytes, arena: int) -> tuple[bool, str]:
    """Whether ``tflite`` allocates in ``arena`` bytes, and what TFLM logged (on stderr)."""
    with capture_fd(2) as log, capture_fd(1):
        try:
            interpreter = runtime.Interpreter.from_bytes(tflite, arena_size=arena)
            if arena == FIRST_ARENA_GUESS:
                interpreter.print_allocations()
            ok = True
        except RuntimeError:
            ok = False
    return ok, log.text


def _used_bytes(report: str) -> int | None:
    """The arena total of TFLM's allocation report, or None when it printed none."""
    found = re.search(r"Arena allocation total (\d+) bytes", report)
    return int(found[1]) if found else None


if __name__ == "__main__":
    main()

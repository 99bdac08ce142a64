"""Loads a page in a real headless Chromium (Debian's ``chromium``) over the DevTools
protocol and reports console errors, uncaught exceptions and how each image rendered.

Skips (or, with EDGECNN_REQUIRE_CHROMIUM=1 as in CI, fails) where Chromium cannot start.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field

import pytest

START_TIMEOUT_S = 30.0


@dataclass
class PageCheck:
    """What a page did while loading."""

    errors: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    title: str = ""


def chromium_or_skip() -> str:
    """The Chromium binary, or a skip (a failure where Chromium is required)."""
    found = next(
        (shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None
    )
    if found is None:
        _unavailable("chromium is not installed (apt-get install chromium)")
    return found


def _unavailable(reason: str) -> None:
    if os.environ.get("EDGECNN_REQUIRE_CHROMIUM") == "1":
        pytest.fail(f"Chromium is required here but {reason}")
    pytest.skip(reason)


def check_page(url: str, timeout: float = 60.0) -> PageCheck:
    """Opens ``url`` headless, waits for the load event, and inspects the page."""
    websocket = pytest.importorskip("websocket", reason="websocket-client is not installed")
    binary = chromium_or_skip()
    home = tempfile.mkdtemp(prefix="edgecnn-chromium-")
    try:
        return _check_in(binary, home, url, timeout, websocket)
    finally:
        _remove_folder(home)


def _check_in(binary: str, home: str, url: str, timeout: float, websocket) -> PageCheck:
    """Runs Chromium with everything it writes inside ``home``: profile, TMPDIR (its
    singleton socket folder) and HOME/XDG_CONFIG_HOME (its crash handler's database)."""
    profile, scratch = os.path.join(home, "profile"), os.path.join(home, "tmp")
    os.mkdir(scratch)
    env = {**os.environ, "TMPDIR": scratch, "HOME": home, "XDG_CONFIG_HOME": home}
    # Its own session, so the browser's helper processes (renderer, zygote) can be stopped
    # as a group: they write into the profile after the parent has exited.
    proc = subprocess.Popen(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--remote-debugging-port=0", "--remote-allow-origins=*",
         f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
        env=env,
    )  # fmt: skip
    try:
        port = _devtools_port(proc)
        page = _page_socket(port)
        ws = websocket.create_connection(page, timeout=timeout)
        try:
            return _inspect(_Session(ws), url, timeout)
        finally:
            ws.close()
    finally:
        _stop_group(proc)


def _stop_group(proc: subprocess.Popen) -> None:
    """Asks Chromium to quit, then kills whatever of its session is left (helpers outlive
    the parent) and reaps the parent."""
    _signal_group(proc, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)
    _signal_group(proc, signal.SIGKILL)
    proc.wait()


def _signal_group(proc: subprocess.Popen, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def _remove_folder(folder: str, attempts: int = 20) -> None:
    """Removes Chromium's folder; a helper that was still writing loses a race or two."""
    for _ in range(attempts):
        shutil.rmtree(folder, ignore_errors=True)
        if not os.path.exists(folder):
            return
        time.sleep(0.1)


def _devtools_port(proc: subprocess.Popen) -> int:
    """Reads Chromium's stderr in a thread (drained to the end, so the pipe never fills)
    until it names its DevTools port, or gives up after START_TIMEOUT_S."""
    lines: queue.Queue[str | None] = queue.Queue()

    def drain() -> None:
        for line in proc.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=drain, daemon=True).start()
    deadline, seen = time.monotonic() + START_TIMEOUT_S, []
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line.strip())
        match = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
        if match:
            return int(match[1])
    _unavailable(f"Chromium did not start: {' | '.join(seen[-3:]) or 'no output'}")
    raise AssertionError("unreachable")


def _page_socket(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as reply:
        targets = json.load(reply)
    return next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")


class _Session:
    """Numbered DevTools calls on one page; events that arrive meanwhile are kept."""

    def __init__(self, ws) -> None:
        self.ws, self.next_id, self.events = ws, 0, []

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            if time.monotonic() > deadline:
                raise AssertionError(f"no {method} within {timeout} s")
            self.events.append(json.loads(self.ws.recv()))


def _inspect(session: _Session, url: str, timeout: float) -> PageCheck:
    for domain in ("Page", "Runtime", "Log"):
        session.call(f"{domain}.enable")
    session.events.clear()
    session.call("Page.navigate", url=url)
    session.wait_for("Page.loadEventFired", timeout)
    script = (
        "JSON.stringify({title: document.title, images: [...document.images].map(i => ("
        "{alt: i.alt, complete: i.complete, width: i.naturalWidth, height: i.naturalHeight}))})"
    )
    found = session.call("Runtime.evaluate", expression=script, returnByValue=True)
    page = json.loads(found["result"]["value"])
    return PageCheck(_errors(session.events), page["images"], page["title"])


def _errors(events: list[dict]) -> list[str]:
    out = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            out.append(params["exceptionDetails"].get("text", "exception"))
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            out.append(" ".join(str(a.get("value")) for a in params.get("args", [])))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            out.append(params["entry"].get("text", ""))
    return out

"""Every "install edgecnn[EXTRA]" message names an extra that really brings what is missing."""

import re
import sys
import tomllib

import pytest

from edgecnn.core.errors import MissingDependencyError
from edgecnn.core.preprocess import DataKind, Preprocessing
from edgecnn.device.io.camera import Camera
from tests.testkit import REPO as ROOT

# require("module", extra="x"[, package="p"]), possibly over several lines.
REQUIRE = re.compile(
    r'require\(\s*f?"(?P<module>[\w.{}]+)",\s*extra="(?P<extra>\w+)"'
    r'(?:,\s*package="(?P<package>[\w.-]+)")?'
)
# picamera2 comes from Raspberry Pi OS (apt), not PyPI; its import failure is never shown
# (camera.open_camera falls back to OpenCV), so no extra has to bring it.
NOT_FROM_AN_EXTRA = {"picamera2"}


def extras() -> dict[str, set[str]]:
    """Each extra's distribution names (lower case, without versions), nested extras included."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    raw = project["optional-dependencies"]
    names = {
        extra: {re.split(r"[<>=!~;\[ ]", req, maxsplit=1)[0].lower() for req in reqs}
        for extra, reqs in raw.items()
    }
    for extra, reqs in raw.items():
        for req in reqs:
            if nested := re.fullmatch(r"edgecnn\[([\w,]+)\]", req):
                for inner in nested[1].split(","):
                    names[extra] |= names[inner]
    return names


def require_calls() -> list[tuple[str, str, str]]:
    """(file, extra, distribution) for every require(...) in the package."""
    calls = []
    for path in sorted((ROOT / "edgecnn").rglob("*.py")):
        for match in REQUIRE.finditer(path.read_text()):
            module = match["module"].split(".")[0]
            package = (match["package"] or module).lower()
            if package not in NOT_FROM_AN_EXTRA:
                calls.append((str(path.relative_to(ROOT)), match["extra"], package))
    return calls


def test_every_require_names_an_extra_that_installs_its_package():
    known = extras()
    calls = require_calls()
    assert len(calls) > 10, "the scan found too few require() calls: is the pattern stale?"
    wrong = [(f, e, p) for f, e, p in calls if p not in known.get(e, set())]
    assert not wrong, f"extras that do not bring the package their message names: {wrong}"


def test_the_camera_source_asks_for_the_extra_that_has_pillow(monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    monkeypatch.setitem(sys.modules, "PIL", None)
    pre = Preprocessing(kind=DataKind.IMAGE, input_shape=(4, 4, 3))
    with pytest.raises(MissingDependencyError, match=r'pillow.*"edgecnn\[camera\]"'):
        next(iter(Camera(0, pre, opener=lambda _index: None)))
    assert "pillow" in extras()["camera"]

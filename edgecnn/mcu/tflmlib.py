"""Builds the TensorFlow Lite Micro library (with CMSIS-NN) for a Cortex-M4F, once.

The sources are a standalone TFLM tree as TFLM's ``create_tflm_tree.py`` makes it for
``TARGET=cortex_m_generic OPTIMIZED_KERNEL_DIR=cmsis_nn`` (a folder, or that folder packed
as ``.tgz``), found through ``EDGECNN_TFLM_DIR``, else the copy in the checkout's
``third_party/tflm/``. The
``libtflm.a`` is cached under ``<cache>/tflm/<key>/``, the key being the hash of the tree,
the flags and the compiler version, so a rebuild happens only when one of them changes.
The flags are :mod:`edgecnn.export.tflm_flags`, which the firmware's Makefile uses too.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from edgecnn.core.console import to_stderr
from edgecnn.core.errors import BadInputError, RunFailedError
from edgecnn.core.fileio import cache_root
from edgecnn.export.tflm_flags import C_FLAGS, COMMON_FLAGS, CXX_FLAGS, DEFINES, INCLUDE_DIRS
from edgecnn.mcu.toolchain import ArmToolchain

try:
    import fcntl
except ImportError:  # Windows: no lock; concurrent builds there may collide
    fcntl = None

TFLM_ENV = "EDGECNN_TFLM_DIR"
COMPILE_TIMEOUT_S = 600  # one source file
TREE_ARCHIVE = "tflm-tree-cortex-m-cmsis-nn.tgz"
# Where a copy may lie above the package: the checkout's own, then the team's shared one.
VENDOR_PARTS = (("third_party", "tflm"), ("shared", "vendor", "tflm"))

# Library sources: the interpreter, kernels and CMSIS-NN. Tests, test helpers and the signal
# library (the audio front end is edgecnn's own C++) stay out.
SOURCE_ROOTS = ("tensorflow", "third_party/cmsis_nn/Source")
EXCLUDED_NAMES = ("test_helpers.cc", "test_helper_custom_ops.cc", "mock_micro_graph.cc")


@dataclass(frozen=True)
class TflmLibrary:
    """A built TFLM library and what a firmware needs to compile against it.

    Attributes:
        archive: ``libtflm.a``.
        tree: the TFLM source tree (its headers).
        key: the cache key (hash of tree, flags and compiler).
        cached: True when the archive was already built.
        build_seconds: the time the build took (0 when cached).
    """

    archive: Path
    tree: Path
    key: str
    cached: bool
    build_seconds: float


def find_tflm_source(explicit: str | os.PathLike | None = None) -> Path:
    """The TFLM tree or archive: ``explicit``, ``$EDGECNN_TFLM_DIR``, or a vendored copy.

    The vendored copy is the checkout's ``third_party/tflm`` (or ``shared/vendor/tflm`` in a
    folder above it); an installed wheel has none, so it needs the setting.

    Raises:
        BadInputError: nothing found, or the path holds no TFLM tree.
    """
    given = explicit or os.environ.get(TFLM_ENV)
    if given:
        return _tree_or_archive(Path(given))
    for parent in Path(__file__).resolve().parents:
        for parts in VENDOR_PARTS:
            candidate = parent.joinpath(*parts)
            if candidate.is_dir():
                return _tree_or_archive(candidate)
    raise BadInputError(
        f"no TensorFlow Lite Micro source tree found; set {TFLM_ENV} to a tree made by TFLM's "
        "create_tflm_tree.py (TARGET=cortex_m_generic OPTIMIZED_KERNEL_DIR=cmsis_nn) or to "
        f"{TREE_ARCHIVE}"
    )


def _tree_or_archive(path: Path) -> Path:
    for candidate in (path, path / TREE_ARCHIVE, path / "tflm_tree"):
        if candidate.is_file() and candidate.name.endswith((".tgz", ".tar.gz")):
            return candidate
        if (candidate / "tensorflow" / "lite" / "micro" / "micro_interpreter.h").is_file():
            return candidate
    raise BadInputError(
        f"{path} holds no TensorFlow Lite Micro tree (tensorflow/lite/micro/"
        f"micro_interpreter.h) and no {TREE_ARCHIVE}; set {TFLM_ENV} to one"
    )


def build_library(
    toolchain: ArmToolchain, *, source: Path | None = None, jobs: int | None = None
) -> TflmLibrary:
    """The cached ``libtflm.a`` for ``source``, built first when not cached.

    Raises:
        BadInputError: no TFLM tree.
        RunFailedError: a source file did not compile (the compiler's first error).
    """
    source = source or find_tflm_source()
    archive = _archive_path(source, toolchain)
    folder, key = archive.parent, archive.parent.name
    if archive.is_file():
        return TflmLibrary(archive, _tree_in(folder, source), key, True, 0.0)
    folder.mkdir(parents=True, exist_ok=True)
    with _build_lock(folder):  # another process may be building the same library
        if archive.is_file():
            return TflmLibrary(archive, _tree_in(folder, source), key, True, 0.0)
        start = time.monotonic()
        tree = unpacked_tree(source, folder)
        jobs = jobs or os.cpu_count() or 1
        to_stderr(
            f"building TensorFlow Lite Micro + CMSIS-NN for Cortex-M4F once "
            f"({len(library_sources(tree))} files, {jobs} at a time; minutes) into {folder}"
        )
        _compile_all(toolchain, tree, archive, jobs=jobs)
        return TflmLibrary(archive, tree, key, False, round(time.monotonic() - start, 1))


@contextlib.contextmanager
def _build_lock(folder: Path):
    """Holds an exclusive lock on ``folder/.lock`` (waits for a build in progress)."""
    with open(folder / ".lock", "a+b") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)


def cached_archive(source: Path, toolchain: ArmToolchain) -> Path | None:
    """The cached ``libtflm.a`` for ``source`` and this compiler, or None (not built yet)."""
    archive = _archive_path(source, toolchain)
    return archive if archive.is_file() else None


def _archive_path(source: Path, toolchain: ArmToolchain) -> Path:
    """Where the library of ``source`` built by ``toolchain`` is cached."""
    return cache_root() / "tflm" / _cache_key(source, toolchain) / "libtflm.a"


def compile_flags(*, cxx: bool) -> list[str]:
    """The compiler flags of the library (and of every firmware linked with it)."""
    return [*COMMON_FLAGS, *(CXX_FLAGS if cxx else C_FLAGS)]


def _cache_key(source: Path, toolchain: ArmToolchain) -> str:
    digest = hashlib.sha256()
    if source.is_file():
        digest.update(source.read_bytes())
    else:
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(source)).encode() + b"\0" + path.read_bytes())
    recipe = (*COMMON_FLAGS, *CXX_FLAGS, *C_FLAGS, *DEFINES, *INCLUDE_DIRS, *SOURCE_ROOTS,
              *EXCLUDED_NAMES, toolchain.version)
    digest.update("\0".join(recipe).encode())
    return digest.hexdigest()[:16]


def _tree_in(folder: Path, source: Path) -> Path:
    return folder / "tflm_tree" if source.is_file() else source


def unpacked_tree(source: Path, folder: Path) -> Path:
    """The TFLM tree: ``source`` itself, or the archive unpacked into ``folder/tflm_tree``."""
    if source.is_dir():
        return source
    folder.mkdir(parents=True, exist_ok=True)
    tree = folder / "tflm_tree"
    if tree.is_dir():
        return tree
    staging = Path(tempfile.mkdtemp(prefix=".unpack.", dir=folder))
    try:
        with tarfile.open(source) as archive:
            archive.extractall(staging, filter="data")
        os.rename(_single_top(staging, source), tree)
    except (OSError, tarfile.TarError) as exc:
        raise BadInputError(f"cannot unpack {source}: {exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return tree


def _single_top(staging: Path, source: Path) -> Path:
    entries = list(staging.iterdir())
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    raise BadInputError(f"{source} should hold one top folder (tflm_tree/), not {len(entries)}")


def library_sources(tree: Path) -> list[Path]:
    """The .cc and .c files the library is made of."""
    found = []
    for root in SOURCE_ROOTS:
        for path in sorted((tree / root).rglob("*")):
            if path.suffix in (".cc", ".c") and path.name not in EXCLUDED_NAMES:
                found.append(path)
    return [p for p in found if not p.name.endswith(("_test.cc", "_test.c"))]


def _compile_all(toolchain: ArmToolchain, tree: Path, archive: Path, *, jobs: int) -> None:
    objects_dir = Path(tempfile.mkdtemp(prefix=".objects.", dir=archive.parent))
    try:
        sources = library_sources(tree)
        objects = [objects_dir / f"{i:04d}_{s.stem}.o" for i, s in enumerate(sources)]
        base = [f"-I{tree / d}" for d in INCLUDE_DIRS] + [f"-D{d}" for d in DEFINES]
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            failures = list(pool.map(
                lambda src, obj: _compile_one(toolchain, base, src, obj), sources, objects
            ))
        failed = [f for f in failures if f]
        if failed:
            raise RunFailedError(f"TFLite Micro did not compile: {failed[0]}")
        temp = objects_dir / "libtflm.a"  # this build's own, renamed into place when whole
        _run([toolchain.ar, "rcs", str(temp), *map(str, objects)], "archiving libtflm.a")
        os.replace(temp, archive)
    finally:
        shutil.rmtree(objects_dir, ignore_errors=True)


def _compile_one(toolchain: ArmToolchain, base: list[str], source: Path, obj: Path) -> str:
    cxx = source.suffix == ".cc"
    compiler = toolchain.cxx if cxx else toolchain.cc
    cmd = [compiler, *compile_flags(cxx=cxx), *base, "-c", str(source), "-o", str(obj)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"{source.name}: not compiled within {COMPILE_TIMEOUT_S} s"
    if done.returncode == 0:
        return ""
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    return f"{source.name}: {(errors or done.stderr.splitlines() or ['no output'])[0]}"


def _run(cmd: list[str], what: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RunFailedError(f"{what} failed: {last}")

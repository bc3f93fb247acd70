"""Compiled Worlds cached on disk, so that a fresh process skips building roads and shortest paths.

A World is stored as a pickle named by the scenario's SHA-256 (its canonical
JSON, ``scenarios.scenario_hash``) and the engine version
(:func:`engine_version`: a hash of the source files of the ``sim`` and
``scenarios`` packages and the versions of Python, numpy, scipy and
pydantic), so an edit of the engine or of the scenario selects another file:
a cached World is never stale. Files are written atomically (a temporary
file, then ``os.replace``) right after compiling, before any run fills the
network's row cache; the directory keeps the :data:`MAX_FILES` most recently
used within :data:`MAX_BYTES` and is safe to delete at any time.

The directory is ``$ANJEON_CACHE_DIR`` or ``~/.cache/anjeon/worlds``. Files
are read with :mod:`pickle`, which runs code of the file's choosing: only
files this project wrote may be there, so the directory must not be shared
with, or writable by, untrusted users. It is created private (mode 0700);
a directory that is not owned by the current user or that others may write
to is not used at all, nor is a file owned by someone else. When the
directory cannot be made or written, the World is compiled as if there were
no cache (silently); a file that cannot be read (corrupt, truncated, from an
incompatible library) is compiled again and rewritten.

Measured (``python -m benchmarks.startup``, ansan, 2 cores): compiling takes
0.17-0.29 s, a cache hit 2.6 ms (hashing the scenario and the sources included).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
import stat
import sys
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from sim.results import sources_sha256
from sim.world import World, compile_world

#: environment variable naming the cache directory
ENV = "ANJEON_CACHE_DIR"
#: cached Worlds kept; the least recently used beyond this are deleted when one is written
MAX_FILES = 64
#: ... and at most this many bytes in all (a World holds its network's rows: ~72 MB at 3,000 nodes)
MAX_BYTES = 2**30
#: first item of every cache file: format and purpose
_MAGIC = "anjeon-world-cache/1"
_SUFFIX = ".world.pickle"
_PACKAGES = ("sim", "scenarios")

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """The cache directory: ``$ANJEON_CACHE_DIR`` or ``~/.cache/anjeon/worlds`` (may not exist yet)."""
    env = os.environ.get(ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "anjeon" / "worlds"


@lru_cache(maxsize=1)
def engine_version() -> str:
    """SHA-256 of the engine's sources and of the libraries a pickled World depends on.

    The sources of the ``sim`` and ``scenarios`` packages
    (:func:`sim.results.sources_sha256`), then the versions of Python, numpy,
    scipy and pydantic. Computed once per process.

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    import numpy
    import pydantic
    import scipy

    h = hashlib.sha256(sources_sha256(_PACKAGES).encode())
    h.update(f"python {sys.version_info[:3]} numpy {numpy.__version__} scipy {scipy.__version__} "
             f"pydantic {pydantic.VERSION}".encode())
    return h.hexdigest()


def cache_path(scenario_sha256: str, directory: Path | None = None) -> Path:
    """The file of a scenario's World for this engine version.

    Parameters
    ----------
    scenario_sha256 : str
        ``scenarios.scenario_hash(scenario)``.
    directory : Path, optional
        Default: :func:`cache_dir`.

    Returns
    -------
    Path
    """
    folder = cache_dir() if directory is None else directory
    return folder / f"{scenario_sha256}-{engine_version()[:32]}{_SUFFIX}"


def cached_world(scenario: Any, scenario_sha256: str | None = None) -> World:
    """The compiled World of ``scenario``: loaded from the cache, or compiled (and cached).

    Parameters
    ----------
    scenario : scenarios.Scenario
        A validated scenario.
    scenario_sha256 : str, optional
        Its ``scenarios.scenario_hash``, if already known.

    Returns
    -------
    World
        A World of its own (never shared with another caller), equal to
        ``compile_world(scenario)``.

    Raises
    ------
    InputError
        As :func:`sim.world.compile_world` does.
    """
    if scenario_sha256 is None:
        import scenarios  # the caller's layer: only to name the scenario (sim.api imports it too)

        scenario_sha256 = scenarios.scenario_hash(scenario)
    folder = cache_dir()
    usable = _usable(folder)
    path = cache_path(scenario_sha256, folder)
    if usable:
        world = _load(path, scenario_sha256)
        if world is not None:
            # the same content may come from another file
            world.source = getattr(scenario, "__anjeon_source__", "<dict>")
            return world
    world = compile_world(scenario)
    if usable:
        _store(path, scenario_sha256, world)
    return world


def _usable(folder: Path) -> bool:
    """Make ``folder`` (private) if needed; whether it is ours alone and writable."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = folder.stat()
    except OSError:
        return False
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return False
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return False  # others could plant a pickle here
    return os.access(folder, os.W_OK | os.X_OK)


def _load(path: Path, scenario_sha256: str) -> World | None:
    """The World in ``path``, or None when missing, foreign, corrupt or of another key."""
    try:
        with path.open("rb") as fh:
            if hasattr(os, "getuid") and os.fstat(fh.fileno()).st_uid != os.getuid():
                return None
            item = pickle.load(fh)
    except FileNotFoundError:
        return None
    except Exception as exc:  # any unpickling failure: recompile and overwrite
        log.warning("ignoring unreadable World cache file %s (%s: %s)", path, type(exc).__name__, exc)
        return None
    ok = (isinstance(item, tuple) and len(item) == 4 and item[0] == _MAGIC
          and item[1] == engine_version() and item[2] == scenario_sha256 and isinstance(item[3], World))
    if not ok:
        log.warning("ignoring World cache file %s: not a World of this scenario and engine", path)
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # most recently used: kept longest
    return item[3]


def _store(path: Path, scenario_sha256: str, world: World) -> None:
    """Write ``world`` to ``path`` atomically, then trim the directory; give up silently on OSError."""
    tmp = None
    try:
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, prefix=".tmp-", suffix=_SUFFIX,
                                         delete=False) as fh:
            tmp = fh.name
            pickle.dump((_MAGIC, engine_version(), scenario_sha256, world), fh,
                        protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        tmp = None
        _trim(path.parent)
    except (OSError, pickle.PicklingError, TypeError, AttributeError) as exc:
        log.debug("World cache not written to %s: %s", path, exc)
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _trim(folder: Path) -> None:
    """Delete the least recently used World files beyond :data:`MAX_FILES` or :data:`MAX_BYTES`."""
    files = []
    for p in folder.glob(f"*{_SUFFIX}"):
        if p.name.startswith(".tmp-"):
            continue
        try:
            st = p.stat()
        except OSError:
            continue
        files.append((st.st_mtime, st.st_size, p))
    files.sort(reverse=True)
    total = 0
    for k, (_, size, p) in enumerate(files):
        total += size
        if k >= MAX_FILES or (k > 0 and total > MAX_BYTES):  # the newest file is always kept
            with contextlib.suppress(OSError):
                p.unlink()

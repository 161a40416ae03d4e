"""The community map drawn as inline SVG on the server: no tiles, no CDN, nothing fetched from outside.

Grids and zones come from the database, streets from the community's streets.geojson when it has one; all in
metres (geo's metric CRS), north up.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from geoalchemy2.shape import to_shape
from markupsafe import Markup
from shapely.geometry import Polygon
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.community.models import Grid
from dispatch.directory import Directory
from dispatch.web.route import Point, StreetGraph


@dataclass(frozen=True)
class Area:
    id: str
    name: str
    name_en: str
    ring: tuple[Point, ...]


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    label: str
    css: str  # incident | incident-closed | you | accepted


@dataclass
class MapData:
    grids: list[Area]
    streets: list[tuple[Point, ...]]
    buildings: list[Point]
    graph: StreetGraph = field(repr=False)

    def grid(self, grid_id: str | None) -> Area | None:
        return next((g for g in self.grids if g.id == grid_id), None)


def load_map(session: Session, directory: Directory, data_dir: Path) -> MapData:
    projector = directory.projector
    grids = []
    for g in session.scalars(select(Grid).order_by(Grid.id)):
        shape = to_shape(g.geom)
        ring = shape.exterior.coords if isinstance(shape, Polygon) else []
        grids.append(Area(g.id, g.name, g.name_en, tuple(projector.to_metric(lon, lat) for lon, lat in ring)))
    streets: list[tuple[Point, ...]] = []
    path = data_dir / "streets.geojson"
    if path.exists():
        for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
            if feature["geometry"]["type"] == "LineString":
                coords = feature["geometry"]["coordinates"]
                streets.append(tuple(projector.to_metric(lon, lat) for lon, lat in coords))
    buildings = [(b.x, b.y) for b in directory.buildings.values()]
    return MapData(grids, streets, buildings, StreetGraph(streets))


def _bounds(points: Iterable[Point]) -> tuple[float, float, float, float]:
    xs, ys = zip(*points, strict=True)
    return min(xs), min(ys), max(xs), max(ys)


def render_svg(
    data: MapData,
    *,
    title: str,
    lang: str = "zh",
    focus: Sequence[Point] = (),
    highlight_grid: str | None = None,
    markers: Sequence[Marker] = (),
    route: Sequence[Point] = (),
    pad_m: float = 60.0,
    grid_class: Mapping[str, str] | None = None,
) -> Markup:
    """`focus`: the points the view must show (the whole community when empty)."""
    everything = [p for g in data.grids for p in g.ring] or [(0.0, 0.0), (1.0, 1.0)]
    minx, miny, maxx, maxy = _bounds(list(focus) or everything)
    minx, miny, maxx, maxy = minx - pad_m, miny - pad_m, maxx + pad_m, maxy + pad_m
    width, height = maxx - minx, maxy - miny
    scale = max(width, height) / 600  # strokes and labels stay readable at any zoom

    def pt(p: Point) -> str:
        return f"{p[0] - minx:.1f},{maxy - p[1]:.1f}"

    out = [
        f'<svg class="map" viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-labelledby="map-title" '
        f'xmlns="http://www.w3.org/2000/svg"><title id="map-title">{escape(title)}</title>'
    ]
    for g in data.grids:
        css = "grid grid-here" if g.id == highlight_grid else "grid"
        if grid_class and g.id in grid_class:
            css = f"grid {grid_class[g.id]}"
        out.append(
            f'<polygon class="{css}" points="{" ".join(pt(p) for p in g.ring)}" stroke-width="{2 * scale:.1f}"/>'
        )
    for s in data.streets:
        out.append(f'<polyline class="street" points="{" ".join(pt(p) for p in s)}" stroke-width="{3 * scale:.1f}"/>')
    r = 2.2 * scale
    for b in data.buildings:
        if minx <= b[0] <= maxx and miny <= b[1] <= maxy:
            out.append(
                f'<rect class="bldg" x="{b[0] - minx - r:.1f}" y="{maxy - b[1] - r:.1f}" width="{2 * r:.1f}" '
                f'height="{2 * r:.1f}"/>'
            )
    for g in data.grids:
        if g.ring:
            cx = sum(p[0] for p in g.ring[:-1]) / max(1, len(g.ring) - 1)
            cy = sum(p[1] for p in g.ring[:-1]) / max(1, len(g.ring) - 1)
            if minx <= cx <= maxx and miny <= cy <= maxy:
                name = g.name_en if lang == "en" else g.name
                out.append(
                    f'<text class="label" x="{cx - minx:.0f}" y="{maxy - cy:.0f}" '
                    f'font-size="{20 * scale:.0f}">{escape(name)}</text>'
                )
    if len(route) >= 2:
        out.append(
            f'<polyline class="route" points="{" ".join(pt(p) for p in route)}" stroke-width="{5 * scale:.1f}"/>'
        )
    for m in markers:
        x, y = m.x - minx, maxy - m.y
        dy = 32 if m.css == "aed" else 8  # an AED often stands by someone's home: its label goes below
        out.append(
            f'<g class="marker {m.css}"><circle cx="{x:.1f}" cy="{y:.1f}" r="{13 * scale:.1f}" '
            f'stroke-width="{2 * scale:.1f}"/><text x="{x + 16 * scale:.1f}" y="{y + dy * scale:.1f}" '
            f'font-size="{24 * scale:.0f}">{escape(m.label)}</text></g>'
        )
    out.append("</svg>")
    return Markup("".join(out))


def cached_map(state: object, session: Session, directory: Directory, data_dir: Path) -> MapData:
    """One MapData per application (the community map does not change while it runs)."""
    found: MapData | None = getattr(state, "map_data", None)
    if found is None:
        found = load_map(session, directory, data_dir)
        state.map_data = found  # type: ignore[attr-defined]
    return found

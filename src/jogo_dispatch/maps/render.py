"""Folium maps rendered to self-contained HTML files: Leaflet is inlined from the app's vendored copy,
so the files open offline and reference no CDN. Pure: data in, HTML out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from typing import Any

import folium
from branca.element import Element, Figure

from jogo_dispatch.geo.cells import cell_boundary

MALANG_CENTRE = (-7.9797, 112.6304)
_LEAFLET = files("jogo_dispatch.live") / "static" / "vendor" / "leaflet"


def base_map(
    centre: tuple[float, float] = MALANG_CENTRE, zoom: int = 13, tile_url: str | None = None, title: str = ""
) -> folium.Map:
    m = folium.Map(location=centre, zoom_start=zoom, tiles=None, control_scale=True)
    # Drop folium's CDN assets (Leaflet, jQuery, Bootstrap, fonts): inline Leaflet instead.
    m.default_js = []
    m.default_css = []
    css = (_LEAFLET / "leaflet.css").read_text()
    js = (_LEAFLET / "leaflet.js").read_text()
    root = m.get_root()
    assert isinstance(root, Figure)  # folium's root is always a Figure
    root.header.add_child(Element(f"<style>{css}</style>\n<script>{js}</script>"), name="leaflet_inline")
    if tile_url:
        folium.TileLayer(tiles=tile_url, attr="&copy; OpenStreetMap contributors", name="tiles").add_to(m)
    if title:
        root.html.add_child(
            Element(
                f'<div style="position:fixed;top:8px;left:50px;z-index:1000;background:#fff;padding:6px 10px;'
                f'border-radius:4px;font:14px sans-serif;box-shadow:0 1px 4px #0004">{_escape(title)}</div>'
            )
        )
    return m


def _escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _ramp(value: float, top: float) -> str:
    """Yellow → red by share of the maximum."""
    x = 0.0 if top <= 0 else max(0.0, min(1.0, value / top))
    return f"#{255:02x}{int(220 * (1 - x)):02x}{int(60 * (1 - x)):02x}"


def _cell_feature(cell: int, props: dict[str, Any]) -> dict[str, Any]:
    ring = [[lon, lat] for lat, lon in cell_boundary(cell)]
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]},
    }


def _cell_layer(
    m: folium.Map,
    features: list[dict[str, Any]],
    outline: str,
    weight: float,
    opacity: float,
    tooltip: folium.GeoJsonTooltip,
) -> None:
    """H3 cells filled with their ``colour`` property (nothing is drawn for no cells)."""
    if not features:
        return
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        style_function=lambda f: {
            "fillColor": f["properties"]["colour"],
            "color": outline,
            "weight": weight,
            "fillOpacity": opacity,
        },
        tooltip=tooltip,
    ).add_to(m)


def heatmap(
    counts: dict[int, int], since: datetime, until: datetime, tile_url: str | None = None
) -> folium.Map:
    """Incidents per H3 cell over a time window."""
    m = base_map(
        tile_url=tile_url, title=f"Incidents per H3 cell, {since:%Y-%m-%d %H:%M} – {until:%Y-%m-%d %H:%M}"
    )
    top = max(counts.values(), default=0)
    features = [
        _cell_feature(c, {"cell": hex(c)[2:], "incidents": n, "colour": _ramp(n, top)})
        for c, n in counts.items()
    ]
    _cell_layer(m, features, "#933", 1, 0.6, folium.GeoJsonTooltip(fields=["cell", "incidents"]))
    return m


@dataclass(frozen=True)
class Gap:
    cell: int
    eta_s: float | None  # None: no available officer at all


def coverage(
    gaps: Sequence[Gap],
    target_eta_s: float,
    officers: Iterable[tuple[float, float]],
    tile_url: str | None = None,
) -> folium.Map:
    """Cells whose nearest available officer is beyond the target ETA, with the officers on duty."""
    m = base_map(
        tile_url=tile_url,
        title=f"Coverage gaps: nearest available officer beyond {target_eta_s / 60:.0f} min",
    )
    worst = max((g.eta_s or 0 for g in gaps), default=0)
    features = [
        _cell_feature(
            g.cell,
            {
                "cell": hex(g.cell)[2:],
                "eta_min": "none available" if g.eta_s is None else round(g.eta_s / 60, 1),
                "colour": _ramp(g.eta_s if g.eta_s is not None else worst, worst),
            },
        )
        for g in gaps
    ]
    tooltip = folium.GeoJsonTooltip(fields=["cell", "eta_min"], aliases=["cell", "ETA (min)"])
    _cell_layer(m, features, "#a33", 0.5, 0.55, tooltip)
    for lat, lon in officers:
        folium.CircleMarker(
            (lat, lon), radius=3, color="#1a7f37", fill=True, fill_opacity=0.9, weight=1
        ).add_to(m)
    return m


def track(
    points: Sequence[tuple[float, float, datetime]], label: str, tile_url: str | None = None
) -> folium.Map:
    """An officer's track over a shift: the line, the start and end, and every fix with its time."""
    centre = (points[0][0], points[0][1]) if points else MALANG_CENTRE
    title = f"Track of {label}" + (
        f", {points[0][2]:%Y-%m-%d %H:%M} – {points[-1][2]:%H:%M}" if points else " (no fixes)"
    )
    m = base_map(centre, 14, tile_url, title)
    if points:
        folium.PolyLine([(lat, lon) for lat, lon, _ in points], color="#1f6feb", weight=3).add_to(m)
        step = max(1, len(points) // 500)
        for lat, lon, at in points[::step]:
            folium.CircleMarker((lat, lon), radius=2, color="#1f6feb", tooltip=f"{at:%H:%M:%S}").add_to(m)
        folium.CircleMarker(points[0][:2], radius=7, color="#1a7f37", fill=True, tooltip="start").add_to(m)
        folium.CircleMarker(points[-1][:2], radius=7, color="#cf222e", fill=True, tooltip="end").add_to(m)
        m.fit_bounds(
            [
                (min(p[0] for p in points), min(p[1] for p in points)),
                (max(p[0] for p in points), max(p[1] for p in points)),
            ]
        )
    return m

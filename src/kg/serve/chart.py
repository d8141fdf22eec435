"""Figures over the years as small inline SVG charts, drawn on the server (no script): one
chart per measure, state and unit; a dot per source's figure (two sources that disagree on a
year show as two dots), each linked to its fact."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from markupsafe import Markup, escape
from rdflib.term import Node

from kg.serve.facts import Fact, label_of, link
from kg.serve.graph import KGO

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD = 340, 170, 64, 24, 12


@dataclass(frozen=True)
class Point:
    year: int
    amount: float
    fact: Fact


def figures_chart(figures: list[Fact], labels: dict[Node, str]) -> list[tuple[str, Markup]]:
    """A (title, SVG) per series of figures that have a year."""
    series: dict[tuple[str, str, str], list[Point]] = defaultdict(list)
    for fact in figures:
        period, amount = fact.first(KGO.refPeriod), fact.first(KGO.amount)
        if period is None or amount is None or not str(period)[:4].isdigit():
            continue
        key = (label_of(labels, fact.first(KGO.measure) or KGO.Figure),
               label_of(labels, fact.first(KGO.refState) or KGO.Figure),
               str(fact.first(KGO.unit) or ""))
        series[key].append(Point(int(str(period)[:4]), float(str(amount)), fact))
    return [(f"{measure} ({state}, {unit})", _svg(points, unit))
            for (measure, state, unit), points in sorted(series.items())]


def _svg(points: list[Point], unit: str) -> Markup:
    years = sorted({p.year for p in points})
    low, high = min(years), max(years)
    top = max(p.amount for p in points) or 1.0
    inner_w, inner_h = WIDTH - PAD_LEFT - PAD, HEIGHT - PAD_BOTTOM - PAD

    def x(year: int) -> float:
        return PAD_LEFT + (inner_w / 2 if high == low else (year - low) / (high - low) * inner_w)

    def y(amount: float) -> float:
        return PAD + inner_h - amount / top * inner_h

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
             f'height="{HEIGHT}" role="img" xmlns="http://www.w3.org/2000/svg">',
             f'<line class="axis" x1="{PAD_LEFT}" y1="{PAD + inner_h}" x2="{WIDTH - PAD}" '
             f'y2="{PAD + inner_h}"/>',
             f'<line class="axis" x1="{PAD_LEFT}" y1="{PAD}" x2="{PAD_LEFT}" '
             f'y2="{PAD + inner_h}"/>',
             f'<text class="tick" x="{PAD_LEFT - 4}" y="{PAD + 4}" text-anchor="end">'
             f'{escape(_short(top))}</text>',
             f'<text class="tick" x="{PAD_LEFT - 4}" y="{PAD + inner_h}" '
             f'text-anchor="end">0</text>']
    parts += [f'<text class="tick" x="{x(year):.1f}" y="{HEIGHT - 6}" text-anchor="middle">'
              f'{year}</text>' for year in years]
    first = {year: next(p for p in points if p.year == year) for year in years}
    if len(years) > 1:
        line = " ".join(f"{x(p.year):.1f},{y(p.amount):.1f}" for p in first.values())
        parts.append(f'<polyline class="series" points="{line}"/>')
    for point in sorted(points, key=lambda p: (p.year, p.amount)):
        title = escape(f"{point.year}: {_short(point.amount)} {unit} ({point.fact.key})")
        parts.append(f'<a href="{escape(link(point.fact.iri) or "")}"><circle class="dot '
                     f'{point.fact.modality}" cx="{x(point.year):.1f}" '
                     f'cy="{y(point.amount):.1f}" r="5"><title>{title}</title></circle></a>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _short(amount: float) -> str:
    """An amount written short: 918M, 3.5B, 72."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(amount) >= size:
            return f"{amount / size:.3g}{suffix}"
    return f"{amount:g}"

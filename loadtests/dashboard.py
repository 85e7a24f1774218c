"""A picture of the chart's Grafana dashboard, drawn from a real Prometheus.

Grafana is not installable on every machine (nor here); Prometheus is (Debian's ``prometheus``). This
reads ``deploy/helm/txclassify/files/dashboard.json`` -- the very file the chart ships -- fills in the
selector the chart would, runs each panel's PromQL over a time range with Prometheus's HTTP API
(``/api/v1/query_range``) and draws the panels in their grid positions with matplotlib::

    .venv/bin/python -m loadtests.dashboard --prometheus http://127.0.0.1:9090 \\
        --selector 'job="txclassify"' --minutes 15 --output docs/dashboard.png

A panel whose queries return nothing says "no data" (as Grafana does), naming why when Prometheus
answered with an error. ``docs/operations.md`` shows the loop that produced the committed picture.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DASHBOARD", "PanelData", "Series", "fill_selector", "main", "query_panels", "render"]

DASHBOARD = Path(__file__).parents[1] / "deploy" / "helm" / "txclassify" / "files" / "dashboard.json"
#: Grafana's grid is 24 columns wide; a row unit is about 30 px.
_GRID_COLUMNS = 24


@dataclass(frozen=True)
class Series:
    legend: str
    times: tuple[float, ...]  # unix seconds
    values: tuple[float, ...]


@dataclass(frozen=True)
class PanelData:
    title: str
    unit: str
    grid: Mapping[str, int]  # x, y, w, h
    series: tuple[Series, ...]
    problem: str | None = None  # Prometheus's error for a query, if any


def fill_selector(expr: str, selector: str, variables: Mapping[str, str]) -> str:
    """The expression as the chart renders it: ``__SELECTOR__``, ``__DEPLOYMENT__`` and ``__NAMESPACE__``
    (from ``variables["deployment"]`` / ``["namespace"]``) and Grafana's ``$name`` variables substituted."""
    out = expr.replace("__SELECTOR__", selector)
    out = out.replace("__DEPLOYMENT__", variables.get("deployment", "txclassify"))
    out = out.replace("__NAMESPACE__", variables.get("namespace", "default"))
    for name, value in sorted(variables.items(), key=lambda item: -len(item[0])):
        out = out.replace(f"${name}", value)
    return out


def _legend(template: str, labels: Mapping[str, str]) -> str:
    out = template or ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) or "value"
    for key, value in labels.items():
        out = out.replace("{{" + key + "}}", value)
    return out


def _query_range(base: str, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
    params = urllib.parse.urlencode({"query": expr, "start": start, "end": end, "step": step})
    try:
        with urllib.request.urlopen(f"{base.rstrip('/')}/api/v1/query_range?{params}", timeout=30) as reply:
            body = json.loads(reply.read())
    except urllib.error.HTTPError as error:  # Prometheus answers a bad query with 400 and a JSON error
        with error:
            body = json.loads(error.read() or b"{}")
    if body.get("status") != "success":
        raise ValueError(body.get("error") or "no answer")
    result = body["data"]["result"]
    return result if isinstance(result, list) else []


def query_panels(
    base: str,
    *,
    selector: str,
    start: float,
    end: float,
    step: float,
    variables: Mapping[str, str] | None = None,
    dashboard: Path = DASHBOARD,
) -> list[PanelData]:
    """Every panel's series over ``[start, end]``; raises ``OSError`` when Prometheus cannot be reached."""
    document = json.loads(dashboard.read_text(encoding="utf-8"))
    panels: list[PanelData] = []
    for panel in document["panels"]:
        series: list[Series] = []
        problem: str | None = None
        for target in panel.get("targets", []):
            expr = fill_selector(target["expr"], selector, variables or {})
            try:
                results = _query_range(base, expr, start, end, step)
            except ValueError as error:
                problem = str(error)
                continue
            for result in results:
                points = [
                    (float(t), float(v)) for t, v in result["values"] if v not in ("NaN", "+Inf", "-Inf")
                ]
                if points:
                    times, values = zip(*points, strict=True)
                    legend = _legend(target.get("legendFormat", ""), result.get("metric", {}))
                    series.append(Series(legend, tuple(times), tuple(values)))
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "none")
        panels.append(PanelData(panel["title"], unit, panel["gridPos"], tuple(series), problem))
    return panels


def render(panels: Sequence[PanelData], output: Path, *, title: str) -> None:
    """Draw ``panels`` at their grid positions into a PNG at ``output``."""
    import matplotlib

    matplotlib.use("Agg")
    from datetime import UTC, datetime

    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    rows = max(p.grid["y"] + p.grid["h"] for p in panels)
    figure = plt.figure(figsize=(16, rows * 0.42 + 0.6), facecolor="#111217")
    figure.suptitle(title, color="#d8d9da", fontsize=13, x=0.01, ha="left")
    top = 1 - 0.6 / (rows * 0.42 + 0.6)
    for panel in panels:
        g = panel.grid
        left, width = g["x"] / _GRID_COLUMNS, g["w"] / _GRID_COLUMNS
        bottom = top - (g["y"] + g["h"]) / rows * top
        height = g["h"] / rows * top
        axes = figure.add_axes(
            (left + 0.035, bottom + 0.035, width - 0.05, height - 0.07), facecolor="#181b1f"
        )
        axes.set_title(panel.title, color="#d8d9da", fontsize=9, loc="left")
        axes.tick_params(colors="#9fa7b3", labelsize=7)
        for spine in axes.spines.values():
            spine.set_color("#2c3235")
        axes.grid(color="#2c3235", linewidth=0.5)
        if not panel.series:
            why = f"no data ({panel.problem[:80]})" if panel.problem else "no data"
            axes.text(0.5, 0.5, why, color="#9fa7b3", ha="center", va="center", transform=axes.transAxes)
            axes.set_xticks([])
            axes.set_yticks([])
            continue
        for s in panel.series[:10]:
            stamps = mdates.date2num([datetime.fromtimestamp(t, tz=UTC) for t in s.times])  # type: ignore[no-untyped-call]
            scale = 100.0 if panel.unit == "percentunit" else 1.0
            axes.plot(stamps, [v * scale for v in s.values], linewidth=1.2, label=s.legend[:40])
        axes.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))  # type: ignore[no-untyped-call]
        if panel.unit == "percentunit":
            axes.set_ylabel("%", color="#9fa7b3", fontsize=7)
        elif panel.unit not in ("none", ""):
            axes.set_ylabel(panel.unit, color="#9fa7b3", fontsize=7)
        legend = axes.legend(fontsize=6, loc="upper left", frameon=False, ncol=2)
        for text in legend.get_texts():
            text.set_color("#d8d9da")
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, dpi=90, facecolor=figure.get_facecolor())
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loadtests.dashboard", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--prometheus", default="http://127.0.0.1:9090", help="Prometheus base URL")
    parser.add_argument("--selector", default='job="txclassify"', help="label matchers for __SELECTOR__")
    parser.add_argument("--namespace", default="default", help="the $namespace variable")
    parser.add_argument("--deployment", default="txclassify", help="the chart's fullname (Deployment)")
    parser.add_argument("--minutes", type=float, default=15.0, help="time range ending now")
    parser.add_argument("--step", type=float, default=15.0, help="query step, seconds")
    parser.add_argument("--output", type=Path, default=Path("docs/dashboard.png"))
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.step <= 0:
        parser.error("--minutes and --step must be positive")
    end = time.time()
    try:
        panels = query_panels(
            args.prometheus,
            selector=args.selector,
            start=end - args.minutes * 60,
            end=end,
            step=args.step,
            variables={"namespace": args.namespace, "deployment": args.deployment},
        )
    except OSError as error:
        print(f"error: cannot reach Prometheus at {args.prometheus}: {error}", file=sys.stderr)
        return 2
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(end))
    render(
        panels,
        args.output,
        title=f"txclassify dashboard (deploy/helm/txclassify/files/dashboard.json) - {stamp}",
    )
    empty = [p.title for p in panels if not p.series]
    print(f"wrote {args.output}: {len(panels) - len(empty)} of {len(panels)} panels with data")
    for name in empty:
        print(f"  no data: {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

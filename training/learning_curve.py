"""Learning curve of ``adapt``: how good an adapted bundle gets with 100, 300, 1,000 and 3,000 customer rows.

The "customer" is one country's statements from the generator's held-out merchants (``split="test"``:
entity-disjoint from every merchant the parent trained on), drawn once; a fixed eval set of whole
counterparties is held out of it, and the training sets are nested prefixes of the rest. Each point is a
real ``adapt`` run (fine-tune, export, int8, gate), so the wall time is the command's. Prints a table, and
writes the rows as JSON and the curve as a PNG::

    python -m training.learning_curve --from models/txclassify-2.0.0 --country IN \\
        --json docs/adapt-curve.json --png docs/adapt-curve.png

``--taxonomy FILE`` (TSV ``our_label<TAB>customer_label``) relabels the rows into a customer's own
categories first, to measure the custom-taxonomy path the same way.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from training.adapt import AdaptSettings, adapt, split_by_counterparty
from training.dataset import LabelledRow, write_csv
from training.gate import GateFailed

__all__ = ["CurvePoint", "customer_rows", "main", "run_curve"]

SIZES = (100, 300, 1000, 3000)


@dataclass(frozen=True)
class CurvePoint:
    rows: int
    accuracy: float
    macro_f1: float
    baseline_accuracy: float
    baseline_macro_f1: float
    parent_accuracy: float | None
    parent_macro_f1: float | None
    dev_accuracy: float | None
    parent_dev_accuracy: float | None
    gate_passed: bool
    failed_checks: tuple[str, ...]
    wall_seconds: float


def customer_rows(
    country: str, n: int, seed: int, taxonomy: dict[str, str] | None = None
) -> list[LabelledRow]:
    """``n`` generated narrations of ``country`` from the held-out merchants, optionally relabelled."""
    from training.data import sample_narrations

    rows: list[LabelledRow] = []
    batch = 0
    while len(rows) < n:
        for x in sample_narrations(20_000, seed=seed + batch, split="test"):
            if x.country == country and len(rows) < n:
                label = taxonomy.get(x.label, x.label) if taxonomy else x.label
                rows.append(LabelledRow(x.text, label, x.direction, x.kind))
        batch += 1
    return rows


def _read_taxonomy(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8") as handle:
        pairs = [
            line.rstrip("\n").split("\t") for line in handle if line.strip() and not line.startswith("#")
        ]
    return {ours: theirs for ours, theirs in pairs}


def _point(rows: int, metrics: dict[str, Any], gate: dict[str, Any], wall: float) -> CurvePoint:
    ours, base = metrics["student_int8"], metrics["baseline"]
    parent = metrics.get("parent", {})
    return CurvePoint(
        rows=rows, accuracy=ours["accuracy"], macro_f1=ours["macro_f1"],
        baseline_accuracy=base["accuracy"], baseline_macro_f1=base["macro_f1"],
        parent_accuracy=parent.get("eval", {}).get("accuracy"),
        parent_macro_f1=parent.get("eval", {}).get("macro_f1"),
        dev_accuracy=metrics.get("dev", {}).get("accuracy"),
        parent_dev_accuracy=parent.get("dev", {}).get("accuracy"),
        gate_passed=bool(gate["passed"]),
        failed_checks=tuple(c["name"] for c in gate["checks"] if not c["passed"]),
        wall_seconds=round(wall, 1),
    )  # fmt: skip


def run_curve(
    parent: Path, rows: Sequence[LabelledRow], scratch: Path, *, sizes: Sequence[int] = SIZES,
    eval_rows: int = 1000, settings: AdaptSettings | None = None,
) -> list[CurvePoint]:  # fmt: skip
    """One ``adapt`` per size on nested training sets, all gated on the same held-out counterparties."""
    settings = settings or AdaptSettings()
    pool, held = split_by_counterparty(rows, eval_rows / len(rows), seed=settings.seed + 7)
    scratch.mkdir(parents=True, exist_ok=True)
    eval_csv = scratch / "eval.csv"
    write_csv(eval_csv, held)
    points = []
    for size in sizes:
        train_csv = scratch / f"train-{size}.csv"
        write_csv(train_csv, pool[:size])
        name, version = "curve", f"{size}.0.0"
        work = scratch / "work"
        start = time.perf_counter()
        try:
            bundle = adapt(parent, train_csv, name=name, version=version, eval_csv=eval_csv,
                           output_dir=scratch / "models", work_dir=work, settings=settings)  # fmt: skip
            card = json.loads((bundle / "model_card.json").read_text())
            metrics, gate = card["metrics"], card["gate"]
        except GateFailed:
            report = json.loads(
                (work / "adapt" / f"{name}-{version}" / f"{name}-{version}-gate.json").read_text()
            )
            metrics, gate = report["metrics"], report["gate"]
        points.append(_point(size, metrics, gate, time.perf_counter() - start))
        print(_table(points), flush=True)
    return points


def _table(points: Sequence[CurvePoint]) -> str:
    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.4f}"

    lines = [f"{'rows':>6} {'acc':>7} {'macroF1':>7} {'tfidf':>7} {'parent':>7} {'dev':>7} {'p.dev':>7} "
             f"{'gate':>5} {'wall s':>7}"]  # fmt: skip
    for p in points:
        lines.append(
            f"{p.rows:>6} {cell(p.accuracy):>7} {cell(p.macro_f1):>7} {cell(p.baseline_accuracy):>7} "
            f"{cell(p.parent_accuracy):>7} {cell(p.dev_accuracy):>7} {cell(p.parent_dev_accuracy):>7} "
            f"{'pass' if p.gate_passed else 'FAIL':>5} {p.wall_seconds:>7.0f}"
            + ("" if p.gate_passed else f"  ({', '.join(p.failed_checks)})")
        )
    return "\n".join(lines)


def _plot(points: Sequence[CurvePoint], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [p.rows for p in points]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(sizes, [p.accuracy for p in points], "o-", label="adapted (int8), eval accuracy")
    ax.plot(sizes, [p.baseline_accuracy for p in points], "s--", label="TF-IDF + LR on the same rows")
    parent = [p.parent_accuracy for p in points if p.parent_accuracy is not None]
    if len(parent) == len(points):
        ax.plot(sizes, parent, ":", color="grey", label="parent, not adapted")
    dev = [p.dev_accuracy for p in points if p.dev_accuracy is not None]
    if len(dev) == len(points):
        ax.plot(sizes, dev, "^-", label="adapted, dev set (forgetting check)")
    ax.set_xscale("log")
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.set_xlabel("customer training rows")
    ax.set_ylabel("accuracy")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.learning_curve", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--from", dest="parent", required=True, type=Path)
    parser.add_argument("--country", default="IN", help="the customer's country (default: IN)")
    parser.add_argument("--taxonomy", type=Path, help="TSV our_label<TAB>customer_label (default: our 16)")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--eval-rows", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--scratch", type=Path, default=Path("artifacts/curve"))
    defaults = AdaptSettings()
    parser.add_argument("--epochs", type=int, default=defaults.epochs, help="passes of each fine-tune")
    parser.add_argument("--max-steps", type=int, default=defaults.max_steps, help="the fine-tune's step cap")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--png", type=Path)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    taxonomy = _read_taxonomy(args.taxonomy) if args.taxonomy else None
    rows = customer_rows(args.country, max(sizes) + args.eval_rows + 200, args.seed, taxonomy)
    settings = replace(defaults, epochs=args.epochs, max_steps=args.max_steps)
    points = run_curve(
        args.parent, rows, args.scratch, sizes=sizes, eval_rows=args.eval_rows, settings=settings
    )
    title = (f"adapt from {args.parent.name}: {args.country} statements, held-out merchants"
             + (f", taxonomy {args.taxonomy.name}" if args.taxonomy else ", our 16 labels"))  # fmt: skip
    if args.json:
        args.json.write_text(
            json.dumps({"title": title, "points": [asdict(p) for p in points]}, indent=2) + "\n"
        )
    if args.png:
        _plot(points, args.png, title)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

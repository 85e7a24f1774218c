"""Student depth trade-off: build one candidate per layer choice (sharing the cached teacher) and print
a table of layers, vocabulary, size, int8 throughput and macro-F1. Candidates go to a scratch models
directory; the gate's verdict is reported, not enforced.

    python -m training.tradeoff --config training/configs/v1.yaml --layers 5 1,3,5 0,5
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from training.config import load_config
from training.gate import GateFailed
from training.pipeline import build

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--layers", nargs="+", required=True, help="comma-separated layer ids per candidate")
    parser.add_argument("--no-prune", action="store_true", help="keep MiniLM's full 30,522-piece vocabulary")
    parser.add_argument("--output-dir", type=Path, default=Path("artifacts/tradeoff"))
    args = parser.parse_args(argv)
    base = load_config(args.config)
    rows = []
    for spec in args.layers:
        layers = tuple(int(x) for x in spec.split(","))
        tag = "L" + "-".join(map(str, layers)) + ("-full" if args.no_prune else "")
        student = replace(base.student, layers=layers, prune_vocab=not args.no_prune)
        config = replace(
            base, version=f"{base.version}-{tag}", student=student, output_dir=str(args.output_dir)
        )
        try:
            build(config, publish_student=False)
            verdict = "passed"
        except GateFailed as error:
            verdict = "failed: " + ", ".join(c.name for c in error.report.failures)
        report = json.loads((Path(config.work_dir) / f"{config.name}-{config.version}-gate.json").read_text())
        m = report["metrics"]
        size = (
            (Path(config.work_dir) / "staging" / f"{config.name}-{config.version}" / "model.onnx")
            .stat()
            .st_size
        )
        speed = m["throughput"]
        cells = [
            f"{len(layers)} {list(layers)}", "pruned" if student.prune_vocab else "full",
            f"{size / 1e6:.1f} MB",
            f"{speed['bucketed_texts_per_s']:.0f}", f"{speed['unsorted_texts_per_s']:.0f}",
            f"{speed['single_text_ms']:.2f}", f"{m['student_fp32']['macro_f1']:.4f}",
            f"{m['student_int8']['macro_f1']:.4f}", f"{m['teacher']['macro_f1']:.4f}",
            f"{m['int8_fp32_agreement']:.4f}", verdict,
        ]  # fmt: skip
        rows.append("| " + " | ".join(cells) + " |")
    print(
        "| layers | vocab | int8 size | int8 texts/s (bucketed b32) | int8 texts/s (unsorted b32) "
        "| 1 text ms | fp32 macro-F1 | int8 macro-F1 | teacher macro-F1 | int8/fp32 agreement | gate |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``txclassify-train``: build the default bundle, or import your own Hugging Face model.

txclassify-train build --config training/configs/v1.yaml
txclassify-train build --config training/configs/v1.yaml --train-csv mine.csv --version 1.1.0
txclassify-train import-hf CHECKPOINT_DIR --eval-csv labelled.csv --name acme --version 1.0.0
txclassify-train adapt --from models/txclassify-2.0.0 --train-csv acme.csv --name acme --version 1.0.0
txclassify-train sample 20 --split test        # print generated narrations
txclassify-train check-isa models/txclassify-1.0.0 --texts 128   # same answers on an AVX2-only CPU?
txclassify-train eval --bundle models/txclassify-1.2.0 --csv corrections.csv   # agreement on corrections
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from service.bundle import ModelBundle
from service.errors import BundleError
from training.isa import EMULATED_CPU, IsaUnavailable

__all__ = ["main"]

#: Modules of the ``[train]`` extra that ``build`` and ``import-hf`` import; the serving image has none of
#: them, so this CLI names what is missing instead of failing with an import traceback.
_TRAIN_MODULES = ("torch", "transformers", "optimum", "onnx", "sklearn", "matplotlib", "tqdm", "yaml")
#: ``sample`` and ``check-isa`` read the behavioural case file (YAML) through the generator.
_LIGHT_MODULES = ("yaml",)
_INSTALL = "pip install torch==2.13.0 && pip install 'txclassify[train]'"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="txclassify-train", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="data -> teacher -> distilled student -> int8 ONNX -> gate -> bundle")
    b.add_argument("--config", required=True, type=Path, help="YAML build config (training/configs/*.yaml)")
    b.add_argument("--train-csv", type=Path, help="train on your own text,label CSV instead of the generator")
    b.add_argument("--eval-csv", type=Path, help="score the gate on this text,label CSV instead")
    b.add_argument("--name", help="bundle name (default: from the config)")
    b.add_argument("--version", help="bundle version (default: from the config)")
    b.add_argument("--output-dir", type=Path, help="where bundles and index.json live (default: models)")
    b.add_argument("--work-dir", type=Path, help="scratch space for caches (default: artifacts)")
    i = sub.add_parser("import-hf", help="bring your own HF sequence-classification checkpoint")
    i.add_argument(
        "checkpoint", type=Path, help="local directory with config.json, weights and tokenizer.json"
    )
    i.add_argument("--eval-csv", required=True, type=Path, help="labelled text,label CSV (30%% calibrates)")
    i.add_argument("--name", required=True)
    i.add_argument("--version", required=True)
    i.add_argument("--config", type=Path, default=Path(__file__).with_name("configs") / "v1.yaml",
                   help="quantisation and gate settings (default: the v1 config)")  # fmt: skip
    i.add_argument("--output-dir", type=Path)
    i.add_argument("--work-dir", type=Path)
    a = sub.add_parser(
        "adapt", help="fine-tune a bundle's student on your text,label[,direction] CSV (any taxonomy) -> gate"
    )
    a.add_argument("--from", dest="parent", required=True, type=Path, help="the parent bundle directory")
    a.add_argument("--train-csv", required=True, type=Path, help="your labelled rows (our 16 or your labels)")
    a.add_argument(
        "--eval-csv", type=Path, help="gate on these rows (default: 20%% of --train-csv, by counterparty)"
    )
    a.add_argument("--name", required=True)
    a.add_argument("--version", required=True)
    a.add_argument(
        "--output-dir", type=Path, help="where bundles and index.json live (default: beside --from)"
    )
    a.add_argument(
        "--work-dir", type=Path, default=Path("artifacts"), help="scratch space (default: artifacts)"
    )
    s = sub.add_parser("sample", help="print generated narrations (label, country, text)")
    s.add_argument("n", type=int)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--split", default="all", choices=("all", "train", "val", "test"))
    c = sub.add_parser("check-isa", help="score a bundle here and on an emulated AVX2-only CPU (qemu-user)")
    c.add_argument("model_dir", type=Path, nargs="?", help="bundle directory (default: the indexed default)")
    c.add_argument("--cpu", default=EMULATED_CPU, help="qemu CPU model (default: %(default)s)")
    c.add_argument("--texts", type=int, default=128, help="held-out narrations to compare (default: 128)")
    c.add_argument("--tolerance", type=float, default=1e-5, help="max |delta probability| allowed")
    c.add_argument(
        "--per-node", action="store_true",
        help="instead, list every node output that is not bit-identical on the two CPUs (a diagnosis)",
    )  # fmt: skip
    e = sub.add_parser(
        "eval", help="agreement of a bundle with corrections from `txclassify feedback export`"
    )
    e.add_argument("--bundle", required=True, type=Path, help="bundle directory to score")
    e.add_argument("--csv", required=True, type=Path, help="corrections file (txclassify feedback export)")
    e.add_argument("--json", type=Path, help="also write the report as JSON here")
    return parser


def _check_isa(args: argparse.Namespace) -> int:
    from service.bundle import default_model_dir
    from service.normalize import normalize_text
    from service.settings import Settings
    from training.data import sample_narrations
    from training.isa import IsaUnavailable, compare_on_emulated_cpu

    bundle = ModelBundle.load(args.model_dir or Settings().model_dir or default_model_dir())
    texts = [normalize_text(n.text) for n in sample_narrations(args.texts, seed=0, split="test")]
    print(f"scoring {len(texts)} narrations with {bundle.path} here and under qemu -cpu {args.cpu} ...")
    if args.per_node:
        return _isa_nodes(bundle, texts, args.cpu)
    try:
        report = compare_on_emulated_cpu(
            bundle.model_path, bundle.tokenizer_path, max_len=bundle.max_seq_len, pad_id=bundle.pad_token_id,
            texts=texts, cpu=args.cpu,
        )  # fmt: skip
    except IsaUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    same = report.same_answers(args.tolerance)
    print(
        f"{'PASS' if same else 'FAIL'}  {report.cpu}: max |delta probability| {report.max_delta:.3g} "
        f"(tolerance {args.tolerance:g}), top-1 agreement {report.top1_agreement:.2%}, {report.seconds:.0f} s"
    )
    return 0 if same else 1


def _isa_nodes(bundle: ModelBundle, texts: Sequence[str], cpu: str) -> int:
    from training.isa import IsaUnavailable, node_differences

    try:
        found = node_differences(
            bundle.model_path, bundle.tokenizer_path, max_len=bundle.max_seq_len, pad_id=bundle.pad_token_id,
            texts=texts, cpu=cpu,
        )  # fmt: skip
    except IsaUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for item in found:
        print(
            f"{item.op_type:24s} {item.node[:60]:60s} {item.differing}/{item.elements} differ, "
            f"max |delta| {item.max_delta:.3g}"
        )
    print(f"{'FAIL' if found else 'PASS'}  {len(found)} node output(s) differ on {cpu}")
    return 1 if found else 0


def _missing(modules: Sequence[str]) -> list[str]:
    return [name for name in modules if importlib.util.find_spec(name) is None]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    heavy = args.command in ("build", "import-hf", "adapt")
    missing = _missing(_TRAIN_MODULES if heavy else _LIGHT_MODULES)
    if missing:
        print(
            f"error: txclassify-train {args.command} needs the [train] extra "
            f"(missing: {', '.join(missing)}); install it with: {_INSTALL}",
            file=sys.stderr,
        )
        return 2
    from training.gate import GateFailed

    try:
        return _run(args)
    except (BundleError, ValueError, KeyError, OSError, GateFailed, IsaUnavailable) as error:
        # One line, never a traceback: each of these names the file, row or check at fault.
        print(f"error: {_one_line(error)}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    if args.command == "sample":
        from training.data import sample_narrations

        for x in sample_narrations(args.n, seed=args.seed, split=args.split):
            print(f"{x.label:<26} {x.country}  {x.text}")
        return 0
    if args.command == "check-isa":
        return _check_isa(args)
    if args.command == "eval":
        from training.corrections import main_eval

        return main_eval(args.bundle, args.csv, args.json)
    print(f"bundle written: {_train(args)}")
    return 0


def _one_line(error: BaseException) -> str:
    detail = error.args[0] if isinstance(error, KeyError) and error.args else None
    text = " ".join(str(detail or getattr(error, "message", None) or error).split())
    return text or type(error).__name__


def _train(args: argparse.Namespace) -> Path:
    from training.config import load_config
    from training.pipeline import build, import_hf

    if args.command == "adapt":
        from training.adapt import adapt

        return adapt(
            args.parent, args.train_csv, name=args.name, version=args.version, eval_csv=args.eval_csv,
            output_dir=args.output_dir, work_dir=args.work_dir,
        )  # fmt: skip
    overrides = {"name": args.name, "version": args.version}
    if args.output_dir:
        overrides["output_dir"] = str(args.output_dir)
    if args.work_dir:
        overrides["work_dir"] = str(args.work_dir)
    config = load_config(args.config, **overrides)
    if args.command == "import-hf":
        return import_hf(args.checkpoint, args.eval_csv, config)
    if args.train_csv or args.eval_csv:
        data = replace(
            config.data,
            train_csv=str(args.train_csv) if args.train_csv else config.data.train_csv,
            eval_csv=str(args.eval_csv) if args.eval_csv else config.data.eval_csv,
        )
        config = replace(config, data=data)
    return build(config)


if __name__ == "__main__":
    raise SystemExit(main())

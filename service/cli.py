"""The ``txclassify`` command: ``serve``, ``classify``, ``info``, ``score``, ``feedback export`` and
``models list | promote NAME-VERSION | rollback``.

Every command finds the bundle the same way (``--model-dir``, else ``TXC_MODEL_DIR``, else
``models/index.json``) and exits non-zero with one clear line if it cannot be used. ``models`` manages a
models directory's ``index.json`` (``--models-dir``, default ``models/``): which bundle is the default and
which one ``rollback`` returns to; each change is one atomic file replace.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from service.errors import BundleError, ServiceError
from service.normalize import DIRECTIONS
from service.settings import Settings

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    settings = Settings()
    if args.model_dir is not None:
        settings = settings.model_copy(update={"model_dir": args.model_dir})
    try:
        code: int = args.run(args, settings)
    except BundleError as error:
        print(f"txclassify: cannot load the model bundle: {error.message}", file=sys.stderr)
        return 2
    except (ServiceError, ValueError, OSError) as error:
        print(f"txclassify: {error}", file=sys.stderr)
        return 1
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="txclassify", description="Classify bank-transaction narrations.")
    parser.add_argument(
        "--model-dir", type=Path, default=None, help="bundle directory (default: TXC_MODEL_DIR, then models/)"
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    # Also accepted after the command (`txclassify info --model-dir D`), where it wins.
    bundle = argparse.ArgumentParser(add_help=False)
    bundle.add_argument(
        "--model-dir",
        type=Path,
        default=argparse.SUPPRESS,
        help="bundle directory (default: TXC_MODEL_DIR, then models/)",
    )

    serve = commands.add_parser("serve", parents=[bundle], help="serve the HTTP API (one process, one model)")
    serve.add_argument("--host", default=None, help="interface (default: TXC_HOST or 0.0.0.0)")
    serve.add_argument("--port", type=int, default=None, help="port (default: TXC_PORT or 8080)")
    serve.set_defaults(run=_serve)

    classify = commands.add_parser("classify", parents=[bundle], help="classify texts given as arguments")
    classify.add_argument("texts", nargs="+", metavar="TEXT")
    classify.add_argument("--json", action="store_true", help="one JSON object per line")
    classify.add_argument(
        "--direction",
        choices=DIRECTIONS,
        default=None,
        help="the direction of every TEXT (read only by models whose card's inputs.direction is true)",
    )
    classify.set_defaults(run=_classify)

    info = commands.add_parser("info", parents=[bundle], help="show the bundle's model card")
    info.set_defaults(run=_info)

    score = commands.add_parser(
        "score",
        parents=[bundle],
        help="score a CSV, JSONL or Parquet file with a 'text' column (and optional 'id', 'direction')",
    )
    score.add_argument("input", type=Path, metavar="INPUT")
    score.add_argument("--output", "-o", type=Path, required=True, metavar="OUTPUT")
    score.add_argument("--chunk-size", type=int, default=2048, help="rows per chunk (default 2048)")
    score.add_argument("--no-resume", action="store_true", help="start over instead of resuming")
    score.add_argument("--quiet", action="store_true", help="no progress bar")
    score.set_defaults(run=_score)

    reference = commands.add_parser(
        "reference",
        parents=[bundle],
        help="set the bundle's drift reference from a sample of your traffic (a file 'score' reads)",
    )
    reference.add_argument("input", type=Path, metavar="INPUT")
    reference.add_argument(
        "--rows", type=int, default=20_000, help="score at most this many rows (default 20000)"
    )
    reference.set_defaults(run=_reference)

    models = commands.add_parser("models", help="list the bundles of a models directory; promote, roll back")
    where = argparse.ArgumentParser(add_help=False)
    # Accepted before or after the action (`models --models-dir D list` or `models list --models-dir D`).
    where.add_argument(
        "--models-dir", type=Path, default=argparse.SUPPRESS, help="bundles and index.json (default: models/)"
    )
    models.add_argument(
        "--models-dir", type=Path, default=None, help="bundles and index.json (default: models/)"
    )
    actions = models.add_subparsers(required=True, metavar="ACTION")
    listing = actions.add_parser(
        "list", parents=[where], help="bundles, lineage and gate; default and previous"
    )
    listing.set_defaults(run=_models_list)
    promote = actions.add_parser(
        "promote", parents=[where], help="make NAME-VERSION the default (old: previous)"
    )
    promote.add_argument("bundle", metavar="NAME-VERSION")
    promote.set_defaults(run=_models_promote)
    rollback = actions.add_parser("rollback", parents=[where], help="serve the previous default again")
    rollback.set_defaults(run=_models_rollback)

    from service.feedback.export import add_commands as add_feedback_commands

    add_feedback_commands(commands)
    return parser


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from service.api import create_app
    from service.classifier import Classifier
    from service.logs import configure_logging
    from service.server import DrainingServer

    update = {key: value for key, value in (("host", args.host), ("port", args.port)) if value is not None}
    settings = settings.model_copy(update=update)
    # Load and warm up before binding the port, so a model that cannot serve (a bad bundle, a model that
    # fails its warm-up batch) is one clear line and a non-zero exit, never a traceback or a live port.
    classifier = Classifier.load(settings.model_dir, settings)
    classifier.warm_up()
    configure_logging(settings.log_level, settings.json_logs)
    app = create_app(settings, classifier)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        # uvloop (uvicorn[standard]), never asyncio's loop by accident: per-request overhead is most of a
        # one-transaction request's cost. The HTTP protocol is httptools' (DrainingServer installs it).
        loop="uvloop",
        lifespan="on",
        timeout_graceful_shutdown=max(1, math.ceil(settings.graceful_timeout_s)),
    )
    server = DrainingServer(config, app)
    server.run()
    return 0 if server.started else 3


def _classify(args: argparse.Namespace, settings: Settings) -> int:
    from service.classifier import Classifier

    classifier = Classifier.load(settings.model_dir, settings)
    predictions = classifier.classify(args.texts, directions=[args.direction] * len(args.texts))
    for text, prediction in zip(args.texts, predictions, strict=True):
        if args.json:
            record = {
                "text": text,
                "label": prediction.label,
                "confidence": round(prediction.confidence, 6),
                "abstained": prediction.abstained,
            }
            print(json.dumps(record, ensure_ascii=False))
        else:
            flag = " (abstained)" if prediction.abstained else ""
            print(f"{prediction.label}\t{prediction.confidence:.4f}{flag}\t{text}")
    return 0


def _info(args: argparse.Namespace, settings: Settings) -> int:
    from service.bundle import ModelBundle, default_model_dir

    bundle = ModelBundle.load(settings.model_dir or default_model_dir())
    print(
        json.dumps(
            {
                "path": str(bundle.path),
                "labels": list(bundle.labels),
                "normalization": bundle.normalization,
                "inputs": bundle.inputs.as_card(),
                "card": dict(bundle.card),
            },
            indent=2,
        )
    )
    return 0


def _models_dir(args: argparse.Namespace) -> Path:
    from service.bundle import default_models_dir

    return Path(args.models_dir) if args.models_dir is not None else default_models_dir()


def _models_list(args: argparse.Namespace, settings: Settings) -> int:
    from service.bundle import CARD_FILE, read_index

    models = _models_dir(args)
    index = read_index(models)
    if not index.bundles:
        print(f"no bundles listed in {models / 'index.json'}")
        return 0
    print(f"{'':2}{'BUNDLE':28}{'CREATED':22}{'LABELS':>7}  {'GATE':6}PARENT")
    for entry in index.bundles:
        path = entry["path"]
        mark = "*" if path == index.default else "-" if path == index.previous else " "
        labels, parent = "?", ""
        try:
            card = json.loads((models / path / CARD_FILE).read_text(encoding="utf-8"))
            labels = str(len(json.loads((models / path / "labels.json").read_text(encoding="utf-8"))))
            lineage = card.get("adaptation", {}).get("parent")
            if lineage:
                parent = f"{lineage['name']}-{lineage['version']} ({str(lineage['model_sha256'])[:12]})"
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            labels = "missing"
        created, gate = str(entry.get("created", "")), str(entry.get("gate", ""))
        print(f"{mark:2}{path:28}{created:22}{labels:>7}  {gate:6}{parent}")
    print("* default   - previous (txclassify models rollback returns to it)")
    return 0


def _models_promote(args: argparse.Namespace, settings: Settings) -> int:
    from service.bundle import promote

    index = promote(_models_dir(args), args.bundle)
    print(f"default: {index.default} (previous: {index.previous})")
    return 0


def _models_rollback(args: argparse.Namespace, settings: Settings) -> int:
    from service.bundle import rollback

    index = rollback(_models_dir(args))
    print(f"default: {index.default} (previous: {index.previous})")
    return 0


def _score(args: argparse.Namespace, settings: Settings) -> int:
    from service.bulk import score_file
    from service.classifier import Classifier

    classifier = Classifier.load(settings.model_dir, settings)
    summary = score_file(
        classifier,
        args.input,
        args.output,
        chunk_size=args.chunk_size,
        resume=not args.no_resume,
        progress=not args.quiet,
    )
    print(
        f"scored {summary.rows} rows into {summary.output} "
        f"({summary.chunks_scored} chunks scored, {summary.chunks_resumed} resumed)",
        file=sys.stderr,
    )
    return 0


def _reference(args: argparse.Namespace, settings: Settings) -> int:
    from service.bulk import predict_sample
    from service.bundle import write_reference
    from service.classifier import Classifier
    from service.monitoring import reference_from_predictions

    if args.rows < 1:
        raise ValueError("--rows must be at least 1")
    classifier = Classifier.load(settings.model_dir, settings)
    labels, confidences = predict_sample(classifier, args.input, limit=args.rows)
    if not labels:
        raise ValueError(f"{args.input}: no rows with text to score")
    reference = reference_from_predictions(classifier.bundle.labels, labels, confidences)
    card = write_reference(classifier.bundle.path, reference)
    top = sorted(reference["label_distribution"].items(), key=lambda pair: -pair[1])[:3]
    mix = ", ".join(f"{label} {share:.1%}" for label, share in top)
    print(f"wrote the drift reference ({len(labels)} rows; {mix}, ...) into {card}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

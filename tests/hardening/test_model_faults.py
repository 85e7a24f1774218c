"""Model faults at start-up: a broken bundle makes ``txclassify serve`` exit non-zero with one clear line.

Each case copies the real tiny bundle, breaks one thing the way disks, copies and pipelines break it, and
starts the real console script on it. The process must exit (non-zero) before it ever answers ``/readyz``,
print a line that names the file and the problem, and print no traceback: the line is what an operator
reads in ``kubectl logs --previous``. Never serving garbage is the point.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hardening.server import ServerProcess

START_UP_DEADLINE_S = 60.0


def _load_card(bundle: Path) -> dict[str, object]:
    card: dict[str, object] = json.loads((bundle / "model_card.json").read_text())
    return card


def _write_card(bundle: Path, card: dict[str, object]) -> None:
    (bundle / "model_card.json").write_text(json.dumps(card, indent=2))


def _reseal(bundle: Path) -> None:
    """Record the (broken) model's real checksum, so that only a deeper check can catch the fault."""
    card = _load_card(bundle)
    card["model_sha256"] = hashlib.sha256((bundle / "model.onnx").read_bytes()).hexdigest()
    _write_card(bundle, card)


def _remove_bundle(bundle: Path) -> None:
    shutil.rmtree(bundle)


def _remove_model(bundle: Path) -> None:
    (bundle / "model.onnx").unlink()


def _truncate_model(bundle: Path) -> None:
    model = bundle / "model.onnx"
    data = model.read_bytes()
    model.write_bytes(data[: len(data) // 2])
    _reseal(bundle)


def _garbage_model(bundle: Path) -> None:
    (bundle / "model.onnx").write_bytes(bytes(range(256)) * 64)
    _reseal(bundle)


def _checksum_mismatch(bundle: Path) -> None:
    # One flipped bit in a weight: the file still parses, only the checksum can tell.
    model = bundle / "model.onnx"
    data = bytearray(model.read_bytes())
    data[-100] ^= 0x01
    model.write_bytes(bytes(data))


def _labels_narrower_than_model(bundle: Path) -> None:
    labels = json.loads((bundle / "labels.json").read_text())
    (bundle / "labels.json").write_text(json.dumps(labels[:-1]))


def _labels_wider_than_model(bundle: Path) -> None:
    labels = json.loads((bundle / "labels.json").read_text())
    (bundle / "labels.json").write_text(json.dumps([*labels, "EXTRA_LABEL"]))


def _labels_not_json(bundle: Path) -> None:
    (bundle / "labels.json").write_text("FOOD_AND_DRINK\nTRANSPORT\n")


def _tokenizer_garbage(bundle: Path) -> None:
    (bundle / "tokenizer.json").write_text('{"version": "1.0", "model": {"type": "NoSuchModel"')


def _tokenizer_missing(bundle: Path) -> None:
    (bundle / "tokenizer.json").unlink()


def _tokenizer_is_a_directory(bundle: Path) -> None:
    (bundle / "tokenizer.json").unlink()
    (bundle / "tokenizer.json").mkdir()


def _tokenizer_from_another_model(bundle: Path) -> None:
    # A vocabulary larger than the model's embedding table: loads fine, fails on the first text using it.
    tokenizer = json.loads((bundle / "tokenizer.json").read_text())
    vocabulary = tokenizer["model"]["vocab"]
    vocabulary["zzextraword"] = len(vocabulary) + 1_000
    (bundle / "tokenizer.json").write_text(json.dumps(tokenizer))


def _card_missing(bundle: Path) -> None:
    (bundle / "model_card.json").unlink()


def _card_not_json(bundle: Path) -> None:
    (bundle / "model_card.json").write_text("name: txclassify\n")


def _card_wrong_normalization(bundle: Path) -> None:
    card = _load_card(bundle)
    card["normalization"] = "txc-norm-0"
    _write_card(bundle, card)


@dataclass(frozen=True)
class Fault:
    name: str
    breaks: Callable[[Path], None]
    #: The file the line must name (a bare name; a missing bundle names its directory).
    names: str
    #: The problem the line must state, as a case-insensitive regular expression.
    problem: str


_MISSING = r"missing|not found|does not exist|no such|not a file|is a directory"
_UNREADABLE = r"invalid|corrupt|truncated|cannot|can't|could not|unable|failed|not valid|unreadable|parse"

FAULTS = [
    Fault("missing bundle", _remove_bundle, "<bundle>", _MISSING),
    Fault("missing model.onnx", _remove_model, "model.onnx", _MISSING),
    Fault("truncated model.onnx", _truncate_model, "model.onnx", _UNREADABLE),
    Fault("corrupt model.onnx", _garbage_model, "model.onnx", _UNREADABLE),
    Fault("checksum mismatch", _checksum_mismatch, "model.onnx", r"checksum|sha256|sha-256|digest"),
    Fault("labels narrower than the model", _labels_narrower_than_model, "labels.json", r"\d+.*\d+"),
    Fault("labels wider than the model", _labels_wider_than_model, "labels.json", r"\d+.*\d+"),
    Fault("labels not JSON", _labels_not_json, "labels.json", _UNREADABLE),
    Fault("unreadable tokenizer", _tokenizer_garbage, "tokenizer.json", _UNREADABLE),
    Fault("missing tokenizer", _tokenizer_missing, "tokenizer.json", _MISSING + "|" + _UNREADABLE),
    Fault(
        "tokenizer is a directory", _tokenizer_is_a_directory, "tokenizer.json", _MISSING + "|" + _UNREADABLE
    ),
    Fault(
        "tokenizer from another model",
        _tokenizer_from_another_model,
        "tokenizer.json",
        r"token id \d+ .*(outside|out of)",
    ),
    Fault("missing model card", _card_missing, "model_card.json", _MISSING),
    Fault("model card not JSON", _card_not_json, "model_card.json", _UNREADABLE),
    Fault("normalisation mismatch", _card_wrong_normalization, "model_card.json", r"normali[sz]ation"),
]


@dataclass(frozen=True)
class Outcome:
    bundle: Path
    code: int
    output: str


@pytest.fixture(scope="module")
def outcomes(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Start one server per fault, all at once (start-up is mostly imports: this keeps CI short)."""
    root = tmp_path_factory.mktemp("model-faults")
    env = {"TXC_INTRA_OP_THREADS": "1", "TXC_LOG_LEVEL": "info"}
    servers: dict[str, tuple[Path, ServerProcess]] = {}
    for index, fault in enumerate(FAULTS):
        bundle = root / f"bundle-{index}"
        shutil.copytree(tiny_bundle, bundle)
        fault.breaks(bundle)
        servers[fault.name] = (bundle, ServerProcess({**env, "TXC_MODEL_DIR": str(bundle)}, root).start())
    results = {}
    try:
        for name, (bundle, server) in servers.items():
            code = server.wait_exit(START_UP_DEADLINE_S)
            results[name] = Outcome(bundle, code, server.output())
    finally:
        for _, server in servers.values():
            server.__exit__(None, None, None)
    return results


@pytest.mark.parametrize("fault", FAULTS, ids=[fault.name for fault in FAULTS])
def test_broken_bundle_stops_start_up_with_one_clear_line(fault: Fault, outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes[fault.name]
    output = outcome.output

    assert outcome.code != 0, f"a broken bundle ({fault.name}) must fail start-up, got exit 0:\n{output}"
    assert "Traceback" not in output, f"start-up failure must be one clear line, not a traceback:\n{output}"
    named = str(outcome.bundle) if fault.names == "<bundle>" else fault.names
    lines = [line for line in output.splitlines() if named in line]
    clear = [line for line in lines if re.search(fault.problem, line, re.IGNORECASE)]
    assert clear, (
        f"no line names {named!r} and states the problem (/{fault.problem}/) for {fault.name}:\n{output}"
    )
    assert "Uvicorn running" not in output, f"the server must never listen on a broken bundle:\n{output}"

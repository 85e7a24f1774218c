"""The build's side of the bundle writer: a gate report that passed becomes a bundle in the format
``service/bundle.py`` defines (and writes: ``service.bundle.write_bundle``, one writer for the format)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from service.bundle import BundleInputs, GazetteerInfo, file_sha256, update_index
from service.bundle import write_bundle as publish
from service.gazetteer import Gazetteer
from service.lexical import LexicalModel
from training.gate import GateFailed, GateReport
from training.labels import LABELS

__all__ = ["file_sha256", "update_index", "write_bundle"]


def write_bundle(
    output_dir: Path,
    *,
    name: str,
    version: str,
    model_path: Path,
    tokenizer_path: Path,
    card: dict[str, Any],
    report: GateReport,
    extra_files: dict[str, Path] | None = None,
    direction: bool = False,
    gazetteer: Gazetteer | None = None,
    lexical: LexicalModel | None = None,
    labels: Sequence[str] = LABELS,
    make_default: bool = True,
) -> Path:
    """Write the bundle directory and return it; raises :class:`GateFailed` if the gate did not pass.

    ``direction``: the model was trained on ``model_input(..., direction=...)`` inputs; ``gazetteer``: the
    table whose hints it was trained with, shipped as ``gazetteer.tsv``. Both go into the card's ``inputs``
    (a ``card["inputs"]`` must agree with them); ``lexical`` ships as ``lexical.npz``. ``labels``: the
    model's outputs in order (``labels.json``). Everything else as ``service.bundle.write_bundle``: the
    staged bundle is loaded with the service's ``ModelBundle.load`` before it replaces anything
    (``BundleError``), and ``ValueError`` if ``card`` sets a key the writer decides or ``extra_files`` names
    a bundle file.
    """
    if not report.passed:
        raise GateFailed(report)
    inputs = BundleInputs(
        direction=direction,
        gazetteer=None if gazetteer is None else GazetteerInfo.of(gazetteer),
    )
    card = dict(card)
    if tuple(card.pop("labels", labels)) != tuple(labels):
        raise ValueError("card['labels'] disagrees with labels= (labels.json is the one list)")
    stated = card.pop("inputs", inputs.as_card())
    if stated != inputs.as_card():
        raise ValueError(
            f"card['inputs'] {stated} disagrees with direction= and gazetteer= ({inputs.as_card()})"
        )
    return publish(
        output_dir, name=name, version=version, model_path=model_path, tokenizer_path=tokenizer_path,
        labels=labels, card=card, gate=report.as_dict(), inputs=inputs, gazetteer=gazetteer, lexical=lexical,
        extra_files=extra_files, make_default=make_default,
    )  # fmt: skip

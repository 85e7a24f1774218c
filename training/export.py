"""fp32 ONNX export with optimum (the ``text-classification`` task: inputs input_ids / attention_mask
[/ token_type_ids], output ``logits``)."""

from __future__ import annotations

import shutil
import tempfile
import warnings
from pathlib import Path

__all__ = ["export_onnx"]

OPSET = 18


def export_onnx(checkpoint_dir: Path, output_path: Path) -> Path:
    """Export a HF sequence-classification checkpoint to ``output_path`` (one self-contained .onnx file)."""
    from optimum.exporters.onnx import main_export

    output_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        # The tracer warns about Python constants baked into the graph (shape checks); expected for BERT.
        warnings.simplefilter("ignore")
        main_export(
            str(checkpoint_dir), output=tmp, task="text-classification", opset=OPSET, device="cpu",
            local_files_only=True, do_validation=True, library_name="transformers",
        )  # fmt: skip
        shutil.move(str(Path(tmp) / "model.onnx"), output_path)
    return output_path

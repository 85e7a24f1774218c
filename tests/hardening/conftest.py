"""Fixtures for the hardening suite (the tiny real bundle itself comes from ``tests/conftest.py``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest


@pytest.fixture
def server_env(tiny_bundle: Path) -> dict[str, str]:
    """``TXC_*`` settings for a real ``txclassify serve`` on the tiny bundle, sized for 2 shared cores."""
    return {
        "TXC_MODEL_DIR": str(tiny_bundle),
        "TXC_INTRA_OP_THREADS": "1",
        "TXC_LOG_LEVEL": "info",
    }


#: A narration word that the poisoned bundle's tokenizer maps past the end of the model's embedding table.
POISON_WORD = "poisonpill"


@pytest.fixture(scope="session")
def poisoned_bundle(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny bundle whose tokenizer knows one word the model does not (a tokenizer from another model).

    ONNX Runtime rejects the out-of-range token id inside the Gather of the embedding layer, so any batch
    holding that word fails in the model itself, and every other text works. Start-up refuses this
    bundle (its warm-up probes the largest token id); the batch-fault tests swap its tokenizer into an
    app that is already running.
    """
    bundle = tmp_path_factory.mktemp("poisoned-bundle")
    shutil.copytree(tiny_bundle, bundle, dirs_exist_ok=True)
    tokenizer = json.loads((bundle / "tokenizer.json").read_text())
    vocabulary = tokenizer["model"]["vocab"]
    vocabulary[POISON_WORD] = len(vocabulary) + 1_000
    (bundle / "tokenizer.json").write_text(json.dumps(tokenizer))
    return bundle

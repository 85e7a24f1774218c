"""The student stage's word-embedding freeze: the table stays as pre-trained while the rest learns."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from training.base_models import load_classifier, minilm_dir  # noqa: E402
from training.dataset import Split  # noqa: E402
from training.student import freeze_word_embeddings  # noqa: E402
from training.trainer import train_classifier  # noqa: E402


def test_frozen_word_embeddings_do_not_move_while_the_encoder_trains() -> None:
    from transformers import AutoTokenizer

    model = load_classifier(minilm_dir(), [0])
    tokenizer = AutoTokenizer.from_pretrained(minilm_dir())  # type: ignore[no-untyped-call]
    words = model.base_model.embeddings.word_embeddings.weight.detach().clone()
    positions = model.base_model.embeddings.position_embeddings.weight.detach().clone()
    query = model.base_model.encoder.layer[0].attention.self.query.weight.detach().clone()
    freeze_word_embeddings(model)
    split = Split(("pos starbucks 1234 seattle", "nip trf from adebayo o") * 8, (6, 1) * 8)
    train_classifier(model, tokenizer, split, max_len=16, batch_size=8, steps=3, lr=1e-3, seed=0)

    assert torch.equal(model.base_model.embeddings.word_embeddings.weight, words)
    assert not torch.equal(model.base_model.embeddings.position_embeddings.weight, positions)
    assert not torch.equal(model.base_model.encoder.layer[0].attention.self.query.weight, query)

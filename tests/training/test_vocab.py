from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from training.base_models import load_classifier, minilm_dir
from training.vocab import prune_vocabulary


@pytest.mark.slow
def test_pruned_vocabulary_shrinks_the_table_and_never_produces_unk() -> None:
    model = load_classifier(minilm_dir(), layers=(0,))
    corpus = ["sq *joes tacos austin tx", "netflix.com", "zelle payment to john smith"]
    model, tokenizer = prune_vocabulary(model, minilm_dir(), corpus, keep_first=2000)
    assert model.get_input_embeddings().weight.shape[0] == model.config.vocab_size < 5000
    unseen = tokenizer.convert_ids_to_tokens(tokenizer("qwzx bakeryville ñandú 7-eleven")["input_ids"])
    assert "[UNK]" not in unseen
    assert unseen[0] == "[CLS]"
    assert unseen[-1] == "[SEP]"
    # Texts of the corpus tokenize exactly as before pruning (same pieces, so same pretrained embeddings).
    original = AutoTokenizer.from_pretrained(minilm_dir())  # type: ignore[no-untyped-call]
    for text in corpus:
        before = original.convert_ids_to_tokens(original(text)["input_ids"])
        assert tokenizer.convert_ids_to_tokens(tokenizer(text)["input_ids"]) == before

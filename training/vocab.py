"""Vocabulary pruning: shrink the student's embedding table to the pieces narrations actually use.

Kept ids: the first ``keep_first`` ids of the original WordPiece vocabulary (specials, every single
character and its ``##`` continuation, the most frequent pieces), plus every piece the training corpus
produces. Because all single characters stay, any unseen merchant name still tokenizes (into shorter
pieces), never into ``[UNK]``. Done by editing tokenizer.json rather than retraining a tokenizer so that
kept pieces keep their pretrained embeddings.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["prune_vocabulary"]


def _single_char(token: str) -> bool:
    return len(token) == 1 or (token.startswith("##") and len(token) == 3)


def _remap_ids(node: Any, old_to_new: dict[int, int], token_to_new: dict[str, int]) -> Any:
    """Rewrite the special-token ids a tokenizer.json post-processor / added_tokens section holds."""
    if isinstance(node, dict):
        out = {k: _remap_ids(v, old_to_new, token_to_new) for k, v in node.items()}
        if "ids" in out and "id" in out and isinstance(out["id"], str):
            out["ids"] = [token_to_new[out["id"]]]
        if "id" in out and isinstance(out["id"], int) and "content" in out:
            out["id"] = token_to_new[out["content"]]
        return out
    if isinstance(node, list):
        if len(node) == 2 and isinstance(node[0], str) and isinstance(node[1], int):
            return [node[0], token_to_new[node[0]]]  # BertProcessing's ["[CLS]", 101]
        return [_remap_ids(v, old_to_new, token_to_new) for v in node]
    return node


def prune_vocabulary(
    model: Any, tokenizer_dir: Path, corpus: Sequence[str], keep_first: int
) -> tuple[Any, Any]:
    """Return ``(model, tokenizer)`` with a pruned vocabulary; word embeddings are sliced in place."""
    import torch
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    raw = json.loads((tokenizer_dir / "tokenizer.json").read_text())
    vocab: dict[str, int] = raw["model"]["vocab"]
    full = Tokenizer.from_str(json.dumps(raw))
    full.no_truncation()
    full.no_padding()
    used = {i for enc in full.encode_batch(list(corpus)) for i in enc.ids}
    specials = {t["id"] for t in raw.get("added_tokens", [])}
    singles = {i for token, i in vocab.items() if _single_char(token)}
    kept = sorted(used | specials | singles | set(range(min(keep_first, len(vocab)))))
    old_to_new = {old: new for new, old in enumerate(kept)}
    id_to_token = {i: t for t, i in vocab.items()}
    token_to_new = {id_to_token[old]: new for old, new in old_to_new.items()}

    raw["model"]["vocab"] = token_to_new
    raw["post_processor"] = _remap_ids(raw.get("post_processor"), old_to_new, token_to_new)
    raw["added_tokens"] = _remap_ids(raw.get("added_tokens", []), old_to_new, token_to_new)
    # The serving engine truncates and pads per batch itself.
    raw["truncation"] = None
    raw["padding"] = None
    tokenizer = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=Tokenizer.from_str(json.dumps(raw)),
        unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
        model_max_length=512,
    )  # fmt: skip

    embeddings = model.get_input_embeddings()
    pad_id = token_to_new["[PAD]"]
    sliced = torch.nn.Embedding(len(kept), embeddings.weight.shape[1], padding_idx=pad_id)
    with torch.no_grad():
        sliced.weight.copy_(embeddings.weight[torch.tensor(kept)])
    model.set_input_embeddings(sliced)
    model.config.vocab_size = len(kept)
    model.config.pad_token_id = pad_id
    return model, tokenizer

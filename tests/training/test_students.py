from __future__ import annotations

import pytest

from training.config import BuildConfig
from training.students import parse_variant


def test_variant_changes_only_what_it_names() -> None:
    base = BuildConfig()
    config = parse_variant("layers=0,1,2,3,4,5;prune=0;transfer=1000;T=3;freeze=1", base)
    assert config.student.layers == (0, 1, 2, 3, 4, 5)
    assert config.student.prune_vocab is False
    assert config.student.freeze_embeddings is True
    assert config.student.temperature == 3.0
    assert config.data.transfer_size == 1000
    assert config.student.alpha == base.student.alpha
    assert config.teacher == base.teacher


def test_unknown_variant_key_is_refused() -> None:
    with pytest.raises(ValueError, match="depth"):
        parse_variant("depth=3", BuildConfig())

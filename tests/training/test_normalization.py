from __future__ import annotations

import service.normalize
import training.behavioural
import training.dataset
from training.config import BuildConfig, DataConfig
from training.dataset import build_splits


def test_training_uses_the_serving_normalisation_object() -> None:
    # Identity, not equality: the pipeline must import the one function, never a copy.
    assert vars(training.dataset)["normalize_text"] is service.normalize.normalize_text
    assert vars(training.behavioural)["normalize_text"] is service.normalize.normalize_text


def test_every_split_text_is_already_normalised() -> None:
    config = BuildConfig(data=DataConfig(train_size=200, val_size=50, test_size=50))
    splits = build_splits(config)
    for split in (splits.train, splits.val, splits.test):
        assert split.texts
        assert all(service.normalize.normalize_text(t) == t for t in split.texts)

from __future__ import annotations

import service.normalize
import training.behavioural
import training.dataset
from service.gazetteer import Gazetteer
from service.normalize import DIRECTIONS, hint_words, model_input
from training.config import BuildConfig, DataConfig
from training.dataset import build_splits
from training.labels import LABELS

#: Brands the generator's catalogue is likely to use; enough for some rows to get a hint.
BRANDS = Gazetteer(
    {
        "uber": "TRANSPORTATION",
        "shell": "TRANSPORTATION",
        "netflix": "ENTERTAINMENT",
        "amazon": "GENERAL_MERCHANDISE",
        "starbucks": "FOOD_AND_DRINK",
        "tesco": "FOOD_AND_DRINK",
        "walmart": "GENERAL_MERCHANDISE",
    },
    "tests",
)
_LABEL_BY_WORDS = {hint_words(label): label for label in LABELS}


def test_training_uses_the_serving_normalisation_object() -> None:
    # Identity, not equality: the pipeline must import the one function, never a copy.
    assert vars(training.dataset)["normalize_text"] is service.normalize.normalize_text
    assert vars(training.dataset)["model_input"] is service.normalize.model_input
    assert vars(training.behavioural)["normalize_text"] is service.normalize.normalize_text


def test_every_split_text_is_already_normalised() -> None:
    config = BuildConfig(data=DataConfig(train_size=200, val_size=50, test_size=50))
    splits = build_splits(config.data, config.seed)
    for split in (splits.train, splits.val, splits.test):
        assert split.texts
        assert all(service.normalize.normalize_text(t) == t for t in split.texts)


def test_split_texts_are_the_model_inputs_serving_builds() -> None:
    # Serving builds model_input(text, direction=d, hint=gazetteer.lookup(normalize_text(text))): take
    # each training text apart and check that it is exactly that string for its own parts.
    config = BuildConfig(data=DataConfig(train_size=300, val_size=50, test_size=50, direction_dropout=0.3))
    splits = build_splits(config.data, config.seed, gazetteer=BRANDS)
    seen = {"direction": 0, "hint": 0}
    for split in (splits.train, splits.val, splits.test):
        for text in split.texts:
            parts = text.split(" | ")
            direction = parts.pop(0) if len(parts) > 1 and parts[0] in DIRECTIONS else None
            hint = _LABEL_BY_WORDS.get(parts[0]) if len(parts) > 1 else None
            if hint is not None and BRANDS.lookup(" | ".join(parts[1:])) == hint:
                parts.pop(0)
            else:
                hint = None  # the narration itself starts with words like a hint's
            narration = " | ".join(parts)
            assert model_input(narration, direction=direction, hint=hint) == text
            assert BRANDS.lookup(narration) == hint  # no hint_dropout: every matched brand has its hint
            seen["direction"] += direction is not None
            seen["hint"] += hint is not None
    assert seen["direction"] > 0
    assert seen["hint"] > 0

"""Labelled splits for training and evaluation, normalised exactly as serving normalises.

Every text goes through ``service.normalize.normalize_text`` here, once, so teacher, student,
calibration and gate all see what the service will feed the model.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from service.normalize import normalize_text
from training.config import BuildConfig
from training.data import TRAFFIC_LABEL_WEIGHTS, sample_narrations
from training.data.generator import GENERATOR_VERSION
from training.labels import LABELS, label_id

__all__ = ["Split", "Splits", "build_splits", "length_batches", "read_csv", "write_csv"]


@dataclass(frozen=True)
class Split:
    """Normalised texts and label ids, aligned."""

    texts: tuple[str, ...]
    labels: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.texts)

    def take(self, n: int) -> Split:
        return Split(self.texts[:n], self.labels[:n])


@dataclass(frozen=True)
class Splits:
    train: Split
    val: Split
    test: Split
    source: str


def _split(pairs: Sequence[tuple[str, str]]) -> Split:
    texts, labels = [], []
    for raw, label in pairs:
        text = normalize_text(raw)
        if text:
            texts.append(text)
            labels.append(label_id(label))
    return Split(tuple(texts), tuple(labels))


def read_csv(path: str | Path) -> list[tuple[str, str]]:
    """Read a ``text,label`` CSV (header required); labels must be among the 16 product labels."""
    with Path(path).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"text", "label"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: expected a header with 'text' and 'label' columns")
        rows = [(row["text"], row["label"].strip().upper()) for row in reader]
    for _, label in rows:
        label_id(label)
    return rows


def write_csv(path: str | Path, rows: Sequence[tuple[str, str]]) -> None:
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)


def build_splits(config: BuildConfig) -> Splits:
    """Generated entity-disjoint splits, or the user's CSVs when the config names them.

    With ``train_csv`` the user's rows are shuffled by seed and 10% held out for validation; the test split
    is ``eval_csv`` if given, else the generator's held-out merchants.
    """
    data = config.data
    uniform = 1.0 / len(LABELS)
    total = sum(TRAFFIC_LABEL_WEIGHTS.values())
    weights = {
        label: (1 - data.label_balance) * TRAFFIC_LABEL_WEIGHTS[label] / total + data.label_balance * uniform
        for label in LABELS
    }

    def generated(n: int, split: str, offset: int) -> list[tuple[str, str]]:
        narrations = sample_narrations(
            n, seed=config.seed + offset, split=split, label_weights=weights, zipf_exponent=data.zipf_exponent
        )
        return [(x.text, x.label) for x in narrations]

    rows_test = read_csv(data.eval_csv) if data.eval_csv else generated(data.test_size, "test", 2)
    test = _split(rows_test)
    if data.train_csv:
        rows = read_csv(data.train_csv)
        random.Random(config.seed).shuffle(rows)
        n_val = max(1, len(rows) // 10)
        return Splits(_split(rows[n_val:]), _split(rows[:n_val]), test, f"csv:{data.train_csv}")
    train = _split(generated(data.train_size, "train", 0))
    val = _split(generated(data.val_size, "val", 1))
    return Splits(train, val, test, f"generator-v{GENERATOR_VERSION}")


def length_batches(
    lengths: Sequence[int], batch_size: int, rng: random.Random | None = None
) -> Iterator[list[int]]:
    """Yield index batches of similar length (less padding, ~2x faster on CPU); shuffled if ``rng``."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    chunks = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if rng is not None:
        # Shuffle within a window of similar lengths first, so batches are not always the same.
        window = batch_size * 50
        for start in range(0, len(order), window):
            part = order[start : start + window]
            rng.shuffle(part)
            order[start : start + window] = part
        chunks = [
            sorted(order[i : i + batch_size], key=lambda j: lengths[j])
            for i in range(0, len(order), batch_size)
        ]
        rng.shuffle(chunks)
    yield from chunks

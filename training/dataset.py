"""Labelled splits for training and evaluation, prepared exactly as serving prepares them.

Every text goes through ``service.normalize.model_input`` here, once (normalisation, the transaction's
direction, the bundle gazetteer's category hint), so teacher, student, calibration and gate all see what
the service will feed the model.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from service.gazetteer import Gazetteer
from service.normalize import DIRECTIONS, model_input, normalize_text
from training.config import DataConfig
from training.data import TRAFFIC_LABEL_WEIGHTS, sample_narrations
from training.data.generator import GENERATOR_VERSION
from training.labels import LABELS

if TYPE_CHECKING:
    from training.data.catalogue import Catalogue

__all__ = [
    "LabelledRow",
    "Split",
    "Splits",
    "build_splits",
    "generated_train",
    "length_batches",
    "prepare",
    "read_csv",
    "write_csv",
]


@dataclass(frozen=True)
class Split:
    """Model inputs and label ids, aligned; ``kinds`` (optional) names each row's kind for reports, and
    ``hints`` (optional, from :func:`prepare`) the gazetteer hint each input carries ("" for none)."""

    texts: tuple[str, ...]
    labels: tuple[int, ...]
    kinds: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.texts)

    def take(self, n: int) -> Split:
        return Split(self.texts[:n], self.labels[:n], self.kinds[:n], self.hints[:n])


@dataclass(frozen=True)
class Splits:
    train: Split
    val: Split
    test: Split
    source: str
    #: Evaluation-only sets, reported but never trained on ("dev": the hand-written real-narration set).
    extra: dict[str, Split] = field(default_factory=dict)
    #: The validation rows with the training split's hint dropout (``val`` keeps every hint); None: as
    #: ``val``. What ``lexical.mix_hint_dropout`` fits the mixing weights on.
    val_as_train: Split | None = None


@dataclass(frozen=True)
class LabelledRow:
    """One raw labelled transaction before preparation."""

    text: str
    label: str
    direction: str | None = None
    kind: str = ""


def prepare(
    rows: Sequence[LabelledRow],
    gazetteer: Gazetteer | None,
    *,
    direction_dropout: float = 0.0,
    hint_dropout: float = 0.0,
    seed: int = 0,
    with_hints: bool = True,
    brand_kind_by_hint: bool = False,
    labels: Sequence[str] = LABELS,
) -> Split:
    """Rows -> the model inputs serving would build (``model_input``), in order, empty texts dropped;
    label ids are positions in ``labels`` (the model's outputs; ``ValueError`` for a label outside them).

    ``direction_dropout``/``hint_dropout`` withhold the direction / the gazetteer hint from that share of
    rows (deterministic by ``seed``): training sees both, so a caller without a direction, or a brand the
    index does not hold, still gets the best text-only answer. ``brand_kind_by_hint`` splits the kind
    "brand" into "brand (in index)" and "brand (not in index)" by whether the gazetteer matched. The
    split's ``hints`` record the hint each input carries after the dropout ("" for none).
    """
    rng = random.Random(f"txclassify-prepare-{seed}")
    ids = {label: index for index, label in enumerate(labels)}
    texts: list[str] = []
    targets: list[int] = []
    kinds: list[str] = []
    hints: list[str] = []
    for row in rows:
        normalized = normalize_text(row.text)
        if not normalized:
            continue
        direction = row.direction if rng.random() >= direction_dropout else None
        hint = gazetteer.lookup(normalized) if gazetteer is not None and with_hints else None
        kind = row.kind
        if brand_kind_by_hint and kind == "brand":
            kind = "brand (in index)" if hint is not None else "brand (not in index)"
        if rng.random() < hint_dropout:
            hint = None
        texts.append(model_input(row.text, direction=direction, hint=hint))
        if row.label not in ids:
            raise ValueError(f"label {row.label!r} is not one of the model's labels ({', '.join(labels)})")
        targets.append(ids[row.label])
        kinds.append(kind)
        hints.append(hint or "")
    return Split(tuple(texts), tuple(targets), tuple(kinds), tuple(hints))


def read_csv(path: str | Path, labels: Sequence[str] | None = LABELS) -> list[LabelledRow]:
    """Read a ``text,label[,direction]`` CSV (header required); directions ``debit``/``credit`` or empty.
    With ``labels`` each label must be one of them, matched case-insensitively and returned as written
    there; ``labels=None`` takes any non-empty label as written (a customer's own taxonomy). Raises
    ``ValueError`` naming the file and row."""
    known = None if labels is None else {label.upper(): label for label in labels}
    with Path(path).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"text", "label"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: expected a header with 'text' and 'label' columns")
        rows: list[LabelledRow] = []
        for number, raw in enumerate(reader, start=2):
            label = (raw["label"] or "").strip()
            direction = (raw.get("direction") or "").strip().lower() or None
            if direction is not None and direction not in DIRECTIONS:
                raise ValueError(
                    f"{path}:{number}: direction must be one of {DIRECTIONS} or empty, got {direction!r}"
                )
            if not label:
                raise ValueError(f"{path}:{number}: empty label")
            if known is not None:
                if label.upper() not in known:
                    expected = ", ".join(known.values())
                    raise ValueError(f"{path}:{number}: unknown label {label!r}; expected one of {expected}")
                label = known[label.upper()]
            rows.append(LabelledRow(raw["text"] or "", label, direction, (raw.get("kind") or "").strip()))
    return rows


def write_csv(path: str | Path, rows: Sequence[LabelledRow]) -> None:
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "direction"])
        writer.writerows((row.text, row.label, row.direction or "") for row in rows)


def build_splits(
    data: DataConfig,
    seed: int,
    *,
    gazetteer: Gazetteer | None = None,
    catalogue: Catalogue | None = None,
) -> Splits:
    """Generated entity-disjoint splits, or the user's CSVs when the config names them.

    With ``train_csv`` the user's rows are shuffled by seed and 10% held out for validation; the test split
    is ``eval_csv`` if given, else the generator's held-out merchants. ``extra`` holds the evaluation-only
    sets: the dev set (``data.devset``) with and without directions, and the held-out merchants with no
    gazetteer hint ("test_no_hint": how the model does on brands outside the index). ``seed`` is the
    build's: every draw and dropout derives from it.
    """

    def generated(n: int, split: str, offset: int) -> list[LabelledRow]:
        return _generated(data, seed, n, split, offset, catalogue)

    no_direction = data.direction_dropout
    extra: dict[str, Split] = {}
    if data.devset:
        from training.eval import load_devset

        dev_rows = [LabelledRow(r.text, r.label, r.direction, r.kind) for r in load_devset(Path(data.devset))]
        extra["dev"] = prepare(dev_rows, gazetteer, brand_kind_by_hint=True)
        extra["dev_no_direction"] = prepare(
            dev_rows, gazetteer, direction_dropout=1.0, brand_kind_by_hint=True
        )
    if data.eval_csv:
        test = prepare(read_csv(data.eval_csv), gazetteer, seed=seed + 2)
    else:
        test_rows = generated(data.test_size, "test", 2)
        test = prepare(
            test_rows,
            gazetteer,
            seed=seed + 2,
            brand_kind_by_hint=True,
            direction_dropout=no_direction,
        )
        extra["test_no_hint"] = prepare(
            test_rows, gazetteer, seed=seed + 2, with_hints=False, direction_dropout=no_direction
        )
    if data.train_csv:
        rows = read_csv(data.train_csv)
        random.Random(seed).shuffle(rows)
        n_val = max(1, len(rows) // 10)
        return Splits(
            prepare(
                rows[n_val:], gazetteer, seed=seed, direction_dropout=no_direction,
                hint_dropout=data.hint_dropout,
            ),
            prepare(rows[:n_val], gazetteer, seed=seed + 1),
            test, f"csv:{data.train_csv}", extra,
            prepare(rows[:n_val], gazetteer, seed=seed + 1, hint_dropout=data.hint_dropout),
        )  # fmt: skip
    train = generated_train(data, seed, data.train_size, gazetteer=gazetteer, catalogue=catalogue)
    val_rows = generated(data.val_size, "val", 1)
    val = prepare(val_rows, gazetteer, seed=seed + 1, direction_dropout=no_direction)
    val_as_train = prepare(
        val_rows, gazetteer, seed=seed + 1, direction_dropout=no_direction, hint_dropout=data.hint_dropout
    )
    return Splits(train, val, test, f"generator-v{GENERATOR_VERSION}", extra, val_as_train)


def _generated(
    data: DataConfig, seed: int, n: int, split: str, offset: int, catalogue: Catalogue | None
) -> list[LabelledRow]:
    """``n`` generated rows of one split's merchants, drawn with the config's label mix and ``seed``."""
    uniform = 1.0 / len(LABELS)
    total = sum(TRAFFIC_LABEL_WEIGHTS.values())
    weights = {
        label: (1 - data.label_balance) * TRAFFIC_LABEL_WEIGHTS[label] / total + data.label_balance * uniform
        for label in LABELS
    }
    narrations = sample_narrations(
        n, seed=seed + offset, split=split, label_weights=weights,
        zipf_exponent=data.zipf_exponent, catalogue=catalogue,
    )  # fmt: skip
    return [LabelledRow(x.text, x.label, x.direction, x.kind) for x in narrations]


def generated_train(
    data: DataConfig,
    seed: int,
    n: int,
    *,
    gazetteer: Gazetteer | None = None,
    catalogue: Catalogue | None = None,
) -> Split:
    """``n`` generated training rows (the training merchants only), prepared as the training split is:
    the same seed, direction dropout and hint dropout. ``build_splits`` draws its training split with
    ``n = data.train_size``; the lexical model may draw more (``lexical.train_size``), since it fits in
    minutes where the transformer takes an hour."""
    return prepare(
        _generated(data, seed, n, "train", 0, catalogue),
        gazetteer,
        seed=seed,
        direction_dropout=data.direction_dropout,
        hint_dropout=data.hint_dropout,
    )


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

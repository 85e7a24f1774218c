"""The synthetic narration sampler: label -> country -> entity (Zipf) -> channel -> template -> noise.

Deterministic by seed: the same ``(n, seed, split, ...)`` always returns the same list. Entities are split
70/10/20 into train/val/test by a hash of their name (see :mod:`training.data.catalogue`), so a model
scored on ``split="test"`` has never seen those merchants, employers, lenders or people.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from training.data import vocabulary as v
from training.data.catalogue import COUNTRIES, SPLITS, Entity, entities_for
from training.data.formats import TEMPLATES, Fields
from training.labels import LABELS

__all__ = [
    "COUNTRY_WEIGHTS",
    "GENERATOR_VERSION",
    "TRAFFIC_LABEL_WEIGHTS",
    "Narration",
    "sample_narrations",
    "sample_transfer_narrations",
]

#: Bumped whenever the same seed would produce different narrations or splits (it keys the stage caches).
#: 2: entities named by behavioural cases are pinned to the training split.
GENERATOR_VERSION = 2

#: Label mix of real card-account traffic (roughly: groceries and eating out dominate).
TRAFFIC_LABEL_WEIGHTS: Mapping[str, float] = {
    "INCOME": 4, "TRANSFER_IN": 6, "TRANSFER_OUT": 8, "LOAN_PAYMENTS": 3, "BANK_FEES": 3,
    "ENTERTAINMENT": 5, "FOOD_AND_DRINK": 22, "GENERAL_MERCHANDISE": 14, "HOME_IMPROVEMENT": 3,
    "MEDICAL": 4, "PERSONAL_CARE": 3, "GENERAL_SERVICES": 5, "GOVERNMENT_AND_NON_PROFIT": 2,
    "TRANSPORTATION": 10, "TRAVEL": 3, "RENT_AND_UTILITIES": 5,
}  # fmt: skip
COUNTRY_WEIGHTS: Mapping[str, float] = {"US": 0.35, "UK": 0.2, "NG": 0.15, "EU": 0.15, "IN": 0.15}
#: Share of merchant payments that arrive as a direct debit / ACH / bill payment instead of a card line.
_BILL_SHARE: Mapping[str, float] = {
    "ENTERTAINMENT": 0.25, "GENERAL_SERVICES": 0.4, "PERSONAL_CARE": 0.2, "RENT_AND_UTILITIES": 0.55,
    "GOVERNMENT_AND_NON_PROFIT": 0.5, "LOAN_PAYMENTS": 0.4,
}  # fmt: skip


@dataclass(frozen=True)
class Narration:
    """One labelled narration. ``merchant`` is the entity the split is keyed on (it may not appear in
    ``text``, e.g. for an ATM withdrawal); ``format`` is ``"<channel>:<template index>"``."""

    text: str
    label: str
    merchant: str
    country: str
    format: str


def _channel(entity: Entity, rng: random.Random) -> str:
    """Pick how this entity's transaction reaches the statement."""
    label, kind, roll = entity.label, entity.kind, rng.random()
    if kind == "employer":
        return "payroll" if roll < 0.75 else "other_income"
    if kind == "person":
        if label == "TRANSFER_IN":
            return "p2p_in" if roll < 0.8 else "own_in"
        return "p2p_out" if roll < 0.7 else "own_out" if roll < 0.82 else "atm"
    if kind == "broker":
        return "broker"
    if kind == "fee":
        return "fee"
    if kind == "lender":
        return "loan" if roll < 0.6 else "bill"
    if kind == "charity":
        return "donation" if roll < 0.6 else "card" if roll < 0.8 else "bill"
    if kind == "landlord":
        return "rent"
    if label == "RENT_AND_UTILITIES" and roll < 0.2:
        return "topup"
    return "bill" if rng.random() < _BILL_SHARE.get(label, 0.05) else "card"


def _templates(channel: str, country: str) -> Sequence[str]:
    if channel == "rent":
        return TEMPLATES["bill"][country] + tuple(t for t in TEMPLATES["p2p_out"][country] if "{memo}" in t)
    return TEMPLATES[channel][country]


def _render(entity: Entity, country: str, rng: random.Random) -> tuple[str, str]:
    channel = _channel(entity, rng)
    templates = _templates(channel, country)
    index = rng.randrange(len(templates))
    name = entity.name
    if channel == "card" and rng.random() < 0.25:
        # Card networks cut the merchant name field (ISO 8583 DE43 holds ~22 characters of it).
        name = name[: rng.randint(10, 22)].rstrip()
    fixed = {"m": name, "p": entity.name if entity.kind == "person" else ""}
    if channel == "rent":
        fixed["memo"] = name
        fixed["p"] = Fields(rng, country)["me"]
    text = templates[index].format_map(Fields(rng, country, **fixed))
    return text, f"{channel}:{index}"


def _noise(text: str, rng: random.Random) -> str:
    """Truncation, spacing and casing noise of the kind statements show."""
    if rng.random() < 0.2:
        text = text[: rng.randint(22, 40)].rstrip()
    if rng.random() < 0.1:
        text = text.replace(" ", "  ", rng.randint(1, 3))
    if rng.random() < 0.05 and " " in text:
        cut = text.index(" ")
        text = text[:cut] + text[cut + 1 :]
    roll = rng.random()
    if roll < 0.12:
        return text.title()
    if roll < 0.2:
        return text.lower()
    return text


def _zipf_pick(entities: Sequence[Entity], exponent: float, rng: random.Random) -> Entity:
    weights = [1.0 / (rank + 1) ** exponent for rank in range(len(entities))]
    return rng.choices(entities, weights=weights)[0]


def sample_narrations(
    n: int,
    seed: int = 0,
    split: str = "all",
    *,
    label_weights: Mapping[str, float] | None = None,
    zipf_exponent: float = 1.0,
) -> list[Narration]:
    """Return ``n`` labelled narrations, deterministic by ``seed``.

    ``split`` is ``"train"``, ``"val"``, ``"test"`` (entity-disjoint) or ``"all"``. ``label_weights``
    defaults to the real-traffic mix; merchants within a label follow a Zipf law of ``zipf_exponent``.
    """
    if split not in (*SPLITS, "all"):
        raise ValueError(f"split must be one of {(*SPLITS, 'all')}, got {split!r}")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    weights = label_weights or TRAFFIC_LABEL_WEIGHTS
    rng = random.Random(f"txclassify-{seed}-{split}")
    labels = [label for label in LABELS if weights.get(label, 0) > 0]
    label_w = [weights[label] for label in labels]
    country_w = [COUNTRY_WEIGHTS[c] for c in COUNTRIES]
    out: list[Narration] = []
    while len(out) < n:
        label = rng.choices(labels, weights=label_w)[0]
        country = rng.choices(COUNTRIES, weights=country_w)[0]
        pool = entities_for(label, country, split)
        if not pool:
            continue
        entity = _zipf_pick(pool, zipf_exponent, rng)
        text, fmt = _render(entity, country, rng)
        out.append(Narration(_noise(text, rng), label, entity.name, country, fmt))
    return out


def sample_transfer_narrations(n: int, words: Sequence[str], seed: int = 0) -> list[str]:
    """``n`` *unlabelled* narrations for distillation, deterministic by ``seed`` and ``words``.

    The same statement formats and noise as :func:`sample_narrations`, around merchant names made of one
    to three arbitrary ``words`` (the teacher's vocabulary), sometimes followed by a category word; never a
    catalogue entity, so no held-out merchant is selected into it. The teacher labels them (soft targets
    only): the student learns what the teacher makes of names that no labelled example holds, which is
    where a 2-layer student trails a 12-layer teacher (brands it has never seen with a label).
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if n and not words:
        raise ValueError("words must not be empty")
    rng = random.Random(f"txclassify-transfer-{seed}")
    category_words = sorted({w for ws in v.CATEGORY_WORDS.values() for w in ws})
    country_w = [COUNTRY_WEIGHTS[c] for c in COUNTRIES]
    out: list[str] = []
    for _ in range(n):
        count = rng.choices((1, 2, 3), weights=(0.5, 0.35, 0.15))[0]
        name = " ".join(rng.choice(words) for _ in range(count)).upper()
        if rng.random() < 0.2:
            name = f"{name} {rng.choice(category_words)}"
        # The label only picks a channel and template mix (card, bill, top-up); it is not kept.
        entity = Entity(name, rng.choice(LABELS), "brand", frozenset(COUNTRIES), "transfer")
        country = rng.choices(COUNTRIES, weights=country_w)[0]
        text, _ = _render(entity, country, rng)
        out.append(_noise(text, rng))
    return out

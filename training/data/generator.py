"""The synthetic narration sampler: label -> country -> entity (Zipf) -> channel -> template -> noise.

Deterministic by seed: the same ``(n, seed, split, ...)`` and catalogue always return the same list.
Entities are split 80/10/10 into train/val/test by a hash of label and name (see
:mod:`training.data.catalogue`), so a model scored on ``split="test"`` has never seen those merchants,
employers, lenders or people. The channel decides the direction (``formats/_channels.yaml``): payroll,
benefits, interest earned, P2P in, own-account in, deposits, refunds and loan proceeds are credits.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import TypeVar

from training.data.catalogue import SPLITS, Catalogue, Entity, default_catalogue
from training.data.formats import Fields, channels, templates
from training.data.vocabulary import COUNTRIES, composition
from training.labels import LABELS

__all__ = [
    "COUNTRY_WEIGHTS",
    "GENERATOR_VERSION",
    "NARRATION_KINDS",
    "TRAFFIC_LABEL_WEIGHTS",
    "Narration",
    "channel_for",
    "sample_narrations",
    "sample_transfer_narrations",
]

#: Bumped whenever the same seed would produce different narrations or splits (it keys the stage caches).
#: 2: entities named by behavioural cases are pinned to the training split.
#: 3: 20 countries with formats in data files, direction and kind, refunds, interest, brand index, 80/10/10.
#: 4: per-country composed locals, counterparty mix per label, more country formats.
#: 5: composed owner names ending in S take no second S ("JONES BAKERY").
#: 6: web descriptors squeeze the name ("WWW.THAMESWATER.CO.UK"); P2P memos in the local language.
#: 7: index chains listed for named countries and worldwide keep the named ones; cuts keep the merchant.
#: 8: each country's pool leads with entities named for it (3:1:1 with "worldwide" chains and locals).
#: 9: local businesses in each country's languages (iD tagging schema presets), trade-first names where
#:    the language puts it first, brand-named decoys, small businesses paid by bank transfer.
#: 10: the gazetteer (whose keys name the decoys) also holds the hand-kept brands and brands' whole names
#:    of stop words; a supermarket chain's small stores are labelled as the chain.
GENERATOR_VERSION = 10

#: Label mix of real card-account traffic (roughly: groceries and eating out dominate).
TRAFFIC_LABEL_WEIGHTS: Mapping[str, float] = {
    "INCOME": 4, "TRANSFER_IN": 6, "TRANSFER_OUT": 8, "LOAN_PAYMENTS": 3, "BANK_FEES": 3,
    "ENTERTAINMENT": 5, "FOOD_AND_DRINK": 22, "GENERAL_MERCHANDISE": 14, "HOME_IMPROVEMENT": 3,
    "MEDICAL": 4, "PERSONAL_CARE": 3, "GENERAL_SERVICES": 5, "GOVERNMENT_AND_NON_PROFIT": 2,
    "TRANSPORTATION": 10, "TRAVEL": 3, "RENT_AND_UTILITIES": 5,
}  # fmt: skip
#: Share of traffic by country (a plausible mix of card-account volume; sums to 1).
COUNTRY_WEIGHTS: Mapping[str, float] = {
    "US": 0.22, "GB": 0.10, "IN": 0.10, "NG": 0.07, "CA": 0.05, "AU": 0.05, "DE": 0.05, "BR": 0.05,
    "FR": 0.04, "MX": 0.04, "ES": 0.03, "IT": 0.03, "ZA": 0.03, "KE": 0.03, "NL": 0.02, "GH": 0.02,
    "SG": 0.02, "AE": 0.02, "IE": 0.015, "NZ": 0.015,
}  # fmt: skip
#: What a narration's counterparty is: the entity's kind, or "own" for own-account transfers, ATM
#: withdrawals and cash deposits (keyed on a person entity for the split, but naming no one).
NARRATION_KINDS: tuple[str, ...] = (
    "brand", "shop", "local", "telco", "person", "own", "employer", "benefit", "income", "interest",
    "fee", "lender", "broker", "wallet", "government", "charity", "landlord",
)  # fmt: skip
#: Share of merchant payments that arrive as a direct debit / ACH / bill payment instead of a card line.
_BILL_SHARE: Mapping[str, float] = {
    "ENTERTAINMENT": 0.25, "GENERAL_SERVICES": 0.4, "PERSONAL_CARE": 0.2, "RENT_AND_UTILITIES": 0.6,
    "GOVERNMENT_AND_NON_PROFIT": 0.5, "LOAN_PAYMENTS": 0.4,
}  # fmt: skip
#: Share of a merchant kind's card payments made online.
_ONLINE_SHARE: Mapping[str, float] = {"brand": 0.45, "shop": 0.12, "local": 0.04}
#: Share of local businesses paid by bank transfer (PIX, SPEI, SEPA, UPI, Faster Payments) rather than by
#: card: "PIX ENVIADO - ELETRICISTA JOAO", "UEBERWEISUNG AN MALERBETRIEB KLEIN". They keep their label.
_LOCAL_TRANSFER_SHARE: Mapping[str, float] = {
    "HOME_IMPROVEMENT": 0.3, "GENERAL_SERVICES": 0.3, "GOVERNMENT_AND_NON_PROFIT": 0.25, "MEDICAL": 0.15,
    "PERSONAL_CARE": 0.12, "TRAVEL": 0.12, "ENTERTAINMENT": 0.08, "FOOD_AND_DRINK": 0.05,
}  # fmt: skip
#: Counterparty mix of the labels whose entities are of several kinds (P2P dominates transfers, salaries
#: dominate income); ``None`` and labels not listed draw from the whole pool.
_KIND_SHARES: Mapping[str, Mapping[str | None, float]] = {
    "TRANSFER_IN": {"person": 0.8, "broker": 0.12, "lender": 0.08},
    "TRANSFER_OUT": {"person": 0.78, "broker": 0.12, "wallet": 0.1},
    "INCOME": {"employer": 0.68, "benefit": 0.14, "interest": 0.12, "income": 0.06},
    "BANK_FEES": {"fee": 0.78, "interest": 0.22},
    "GOVERNMENT_AND_NON_PROFIT": {"government": 0.6, "charity": 0.4},
    "RENT_AND_UTILITIES": {"telco": 0.3, "landlord": 0.12, None: 0.58},
}
_REFUND_SHARE = 0.04
_OWN_CHANNELS = frozenset({"own_in", "own_out", "atm", "cash_deposit"})
_T = TypeVar("_T")
_GLUE = re.compile(r"(?<=[A-Za-z]) (?=\d)|(?<=\d) (?=[A-Za-z])")


@dataclass(frozen=True)
class Narration:
    """One labelled narration. ``merchant`` is the entity the split is keyed on (it may not appear in
    ``text``, e.g. for an ATM withdrawal); ``format`` is ``"<channel>:<template index>"``; ``direction``
    is ``"debit"`` or ``"credit"`` (decided by the channel); ``kind`` is one of :data:`NARRATION_KINDS`."""

    text: str
    label: str
    merchant: str
    country: str
    format: str
    direction: str
    kind: str


def _pick(rng: random.Random, *pairs: tuple[_T, float]) -> _T:
    roll, total = rng.random(), 0.0
    for channel, share in pairs:
        total += share
        if roll < total:
            return channel
    return pairs[-1][0]


def channel_for(entity: Entity, rng: random.Random) -> str:
    """How this entity's transaction reaches the statement (a key of ``formats.channels()``)."""
    kind, label = entity.kind, entity.label
    if kind in _ONLINE_SHARE:
        if kind == "local" and rng.random() < _LOCAL_TRANSFER_SHARE.get(label, 0.05):
            return "p2p_out"  # a tradesman, accountant, school or parish paid by bank transfer
        if rng.random() < _REFUND_SHARE:
            return "refund"
        if rng.random() < _BILL_SHARE.get(label, 0.05):
            return "bill"
        if rng.random() < _ONLINE_SHARE[kind]:
            return "ecommerce"
        return "contactless" if rng.random() < 0.3 else "card"
    if kind == "person":
        if label == "TRANSFER_IN":
            return _pick(rng, ("p2p_in", 0.74), ("own_in", 0.12), ("cash_deposit", 0.14))
        return _pick(rng, ("p2p_out", 0.7), ("own_out", 0.12), ("atm", 0.18))
    if kind == "interest":
        return "interest_earned" if label == "INCOME" else "interest_charged"
    if kind == "lender":
        return "loan_disbursement" if label == "TRANSFER_IN" else _pick(rng, ("loan", 0.6), ("bill", 0.4))
    if kind == "broker":
        return "investment_in" if label == "TRANSFER_IN" else "investment_out"
    simple = {"employer": "payroll", "benefit": "benefit", "income": "other_income", "fee": "fee",
              "wallet": "wallet_topup", "landlord": "rent"}  # fmt: skip
    if kind in simple:
        return simple[kind]
    if kind == "telco":
        return _pick(rng, ("airtime", 0.35), ("bill", 0.4), ("card", 0.25))
    if kind == "government":
        return _pick(rng, ("tax", 0.6), ("bill", 0.4))
    if kind == "charity":
        return _pick(rng, ("donation", 0.6), ("card", 0.2), ("bill", 0.2))
    raise ValueError(f"entity {entity.name!r} has unknown kind {kind!r}; this is a bug")


def _person(name: str, rng: random.Random) -> str:
    """A person's name as payment schemes print it: full, surname first, or initialled."""
    first, _, last = name.partition(" ")
    if not last:
        return name
    return _pick(
        rng, (name, 0.6), (f"{last} {first}", 0.12), (f"{first[0]} {last}", 0.12), (f"{last}, {first}", 0.06),
        (first, 0.1),
    )  # fmt: skip


def _render(entity: Entity, country: str, rng: random.Random) -> tuple[str, str, str]:
    """(text, "<channel>:<index>", channel)."""
    channel = channel_for(entity, rng)
    options = templates(country)[channel]
    index = rng.randrange(len(options))
    name = rng.choice(entity.aliases) if entity.aliases and rng.random() < 0.3 else entity.name
    if channel in ("card", "contactless") and rng.random() < 0.25:
        # Card networks cut the merchant name field (ISO 8583 DE43 holds ~22 characters of it).
        name = name[: rng.randint(10, 22)].rstrip()
    fields = Fields(rng, country, m=name)
    if entity.kind == "person":
        fields["p"] = _person(entity.name, rng)
    else:
        fields["p"] = name if channel == "p2p_out" else fields["me"]
    return options[index].format_map(fields), f"{channel}:{index}", channel


def _noise(text: str, rng: random.Random, name: str = "") -> str:
    """One bank's export style (case) and the damage real exports show: truncation mid-word, glued ids,
    doubled or dropped spaces. A cut keeps at least 4 characters of ``name`` where the text shows it
    (a column cut rarely removes the whole merchant). Never returns an empty string for a non-empty input."""
    original = text
    shown = text.find(name[:4]) if name else -1
    if rng.random() < 0.15:
        text = text[: max(rng.randint(18, 40), shown + 4)].rstrip()
    if rng.random() < 0.08:
        text = _GLUE.sub("", text, count=rng.randint(1, 2))
    if rng.random() < 0.08:
        text = text.replace(" ", "  ", rng.randint(1, 3))
    if rng.random() < 0.03 and " " in text:
        cut = text.index(" ")
        text = text[:cut] + text[cut + 1 :]
    style = rng.random()
    if style < 0.1:
        text = text.lower()
    elif style < 0.2:
        text = text.title()
    elif style < 0.75:
        text = text.upper()
    return text if text.strip() else original


class _ZipfPools:
    """Cumulative Zipf weights per entity pool, computed once per pool for one sampling call."""

    def __init__(self, exponent: float) -> None:
        self._exponent = exponent
        self._cum: dict[int, list[float]] = {}

    def pick(self, pool: Sequence[Entity], rng: random.Random) -> Entity:
        key = id(pool)
        if key not in self._cum:
            self._cum[key] = list(accumulate(1.0 / (rank + 1) ** self._exponent for rank in range(len(pool))))
        return rng.choices(pool, cum_weights=self._cum[key])[0]


def sample_narrations(
    n: int,
    seed: int = 0,
    split: str = "all",
    *,
    label_weights: Mapping[str, float] | None = None,
    zipf_exponent: float = 1.0,
    catalogue: Catalogue | None = None,
) -> list[Narration]:
    """Return ``n`` labelled narrations, deterministic by ``seed`` (and the catalogue).

    ``split`` is ``"train"``, ``"val"``, ``"test"`` (entity-disjoint) or ``"all"``. ``label_weights``
    defaults to the real-traffic mix; merchants within a label follow a Zipf law of ``zipf_exponent``.
    ``catalogue`` defaults to the hand-kept one; pass ``build_catalogue(load_brand_index(...).brands)``
    to draw shops from the brand index.
    """
    if split not in (*SPLITS, "all"):
        raise ValueError(f"split must be one of {(*SPLITS, 'all')}, got {split!r}")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    cat = catalogue or default_catalogue()
    weights = label_weights or TRAFFIC_LABEL_WEIGHTS
    rng = random.Random(f"txclassify-{seed}-{split}")
    labels = [label for label in LABELS if weights.get(label, 0) > 0]
    label_w = [weights[label] for label in labels]
    country_w = [COUNTRY_WEIGHTS[c] for c in COUNTRIES]
    directions = {name: ch.direction for name, ch in channels().items()}
    zipf = _ZipfPools(zipf_exponent)
    out: list[Narration] = []
    while len(out) < n:
        label = rng.choices(labels, weights=label_w)[0]
        country = rng.choices(COUNTRIES, weights=country_w)[0]
        shares = _KIND_SHARES.get(label)
        kind = _pick(rng, *shares.items()) if shares else None
        pool = cat.entities_for(label, country, split, kind) or cat.entities_for(label, country, split)
        if not pool:
            continue
        entity = zipf.pick(pool, rng)
        text, fmt, channel = _render(entity, country, rng)
        shown = "own" if channel in _OWN_CHANNELS else entity.kind
        noisy = _noise(text, rng, entity.name)
        out.append(Narration(noisy, label, entity.name, country, fmt, directions[channel], shown))
    return out


def sample_transfer_narrations(
    n: int, words: Sequence[str], seed: int = 0, *, catalogue: Catalogue | None = None
) -> list[str]:
    """``n`` *unlabelled* narrations for distillation, deterministic by ``seed`` and ``words``.

    The same statement formats and noise as :func:`sample_narrations`, around merchant names made of one
    to three arbitrary ``words`` (the teacher's vocabulary), sometimes followed by a category word; never a
    catalogue entity, so no held-out merchant is selected into it. The teacher labels them (soft targets
    only): the student learns what the teacher makes of names that no labelled example holds, which is
    where a 2-layer student trails a 12-layer teacher (brands it has never seen with a label). A name that
    happens to spell a val/test entity of ``catalogue`` (default: the hand-kept one) is drawn again.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if n and not words:
        raise ValueError("words must not be empty")
    rng = random.Random(f"txclassify-transfer-{seed}")
    category_words = sorted({w for ws in composition().category_words.values() for w in ws})
    country_w = [COUNTRY_WEIGHTS[c] for c in COUNTRIES]
    held_out = {e.name for e in (catalogue or default_catalogue()).entities if e.split in ("val", "test")}
    out: list[str] = []
    while len(out) < n:
        count = rng.choices((1, 2, 3), weights=(0.5, 0.35, 0.15))[0]
        name = " ".join(rng.choice(words) for _ in range(count)).upper()
        if rng.random() < 0.2:
            name = f"{name} {rng.choice(category_words)}"
        if name in held_out:
            continue
        # The label only picks a channel and template mix (card, bill, refund); it is not kept.
        entity = Entity(name, rng.choice(LABELS), "brand", frozenset(COUNTRIES), "transfer")
        country = rng.choices(COUNTRIES, weights=country_w)[0]
        text, _, _ = _render(entity, country, rng)
        out.append(_noise(text, rng, name))
    return out

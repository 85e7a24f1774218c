"""Text normalisation shared by training and serving: what the model sees, built in one place.

``normalize_text`` turns a raw bank narration into canonical text; ``model_input`` adds the optional
direction and brand-hint prefixes of normalisation ``txc-norm-2`` and is the one function that builds the
model's input string. The training pipeline imports both from here (never a copy), and every bundle
records the ``normalization`` version it was trained with in its card, so that serving builds the same
input for it (``SUPPORTED_NORMALIZATIONS``) and refuses any other version instead of silently drifting
(offline/online skew).

::

    txc-norm-1   normalize_text(text)
    txc-norm-2   ["<direction> | "] ["<hint words> | "] normalize_text(text)
                 e.g. "debit | food and drink | tesco stores 3297 london"
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal, get_args

__all__ = [
    "DIRECTIONS",
    "NORMALIZATION_VERSION",
    "SUPPORTED_NORMALIZATIONS",
    "Direction",
    "hint_words",
    "mask_digits",
    "model_input",
    "normalize_text",
]

#: The version new bundles are trained with; bumped whenever the model's input changes form.
NORMALIZATION_VERSION = "txc-norm-2"
#: Versions ``model_input`` can build, hence the bundles this service can serve (oldest first).
SUPPORTED_NORMALIZATIONS = ("txc-norm-1", "txc-norm-2")

Direction = Literal["debit", "credit"]
#: Every transaction is a ``"debit"`` (money out) or a ``"credit"`` (money in).
DIRECTIONS: tuple[str, ...] = get_args(Direction)

#: Runs of this many digits or more are card, account or reference numbers: they carry no category signal
#: and, in logs, they are personal data.
LONG_DIGIT_RUN = 6

_LONG_DIGITS = re.compile(rf"\d{{{LONG_DIGIT_RUN},}}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"\s+")
_LABEL = re.compile(r"[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*")
DIGIT_MASK = "#"
#: Separates the prefixes from each other and from the narration in a ``txc-norm-2`` input.
PREFIX_SEPARATOR = " | "


def mask_digits(text: str) -> str:
    """Replace every run of ``LONG_DIGIT_RUN`` or more digits by a single ``#``.

    Used by normalisation and by the log formatter, so that card and account numbers never reach a log.
    """
    return _LONG_DIGITS.sub(DIGIT_MASK, text)


def normalize_text(text: str) -> str:
    """Return the canonical form of a narration.

    NFKC-folds Unicode (full-width digits and letters become ASCII), drops control characters (NUL
    included), masks long digit runs, lower-cases and collapses whitespace. Idempotent:
    ``normalize_text(normalize_text(t)) == normalize_text(t)``. May return ``""`` for input that holds
    only whitespace or control characters; callers reject that as empty input.
    """
    folded = unicodedata.normalize("NFKC", text)
    cleaned = _CONTROL.sub(" ", folded)
    masked = mask_digits(cleaned)
    return _SPACES.sub(" ", masked).strip().lower()


def hint_words(label: str) -> str:
    """A label name as the words a ``txc-norm-2`` hint prefix holds: ``"FOOD_AND_DRINK"`` ->
    ``"food and drink"``. Raises ``ValueError`` unless ``label`` is letters and digits joined by
    single underscores."""
    if not _LABEL.fullmatch(label):
        raise ValueError(f"hint {label!r} is not a label name (letters and digits joined by '_')")
    return label.replace("_", " ").lower()


def model_input(
    text: str,
    *,
    direction: str | None = None,
    hint: str | None = None,
    version: str = NORMALIZATION_VERSION,
) -> str:
    """The exact string the model of a ``version`` bundle is given for ``text``.

    ``txc-norm-1``: ``normalize_text(text)``; ``direction`` and ``hint`` are ignored (the model never saw
    them). ``txc-norm-2``: ``normalize_text(text)`` prefixed, in this order, by ``"<direction> | "`` when a
    direction is given and by ``"<hint words> | "`` when a hint (a label name, see ``hint_words``) is
    given: ``"debit | food and drink | tesco stores 3297 london"``.

    Returns ``""`` whenever ``normalize_text(text)`` is ``""`` (callers reject that as empty input). The
    result is already normalised (``normalize_text(model_input(...)) == model_input(...)``), and, since
    ``normalize_text`` is idempotent, passing normalised text gives the same result as passing the raw
    text. Raises ``ValueError`` for a direction outside ``DIRECTIONS``, a hint that is not a label name,
    or a version outside ``SUPPORTED_NORMALIZATIONS`` (checked for every version).
    """
    if version not in SUPPORTED_NORMALIZATIONS:
        raise ValueError(
            f"normalization {version!r} is not supported (supported: {', '.join(SUPPORTED_NORMALIZATIONS)})"
        )
    if direction is not None and direction not in DIRECTIONS:
        raise ValueError(f"direction {direction!r} is not one of {', '.join(DIRECTIONS)}")
    words = None if hint is None else hint_words(hint)
    normalized = normalize_text(text)
    if version == "txc-norm-1" or not normalized:
        return normalized
    prefixes = [part for part in (direction, words) if part is not None]
    return PREFIX_SEPARATOR.join([*prefixes, normalized])

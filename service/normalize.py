"""Text normalisation shared by training and serving.

This is the one function that turns a raw bank narration into the text the model sees. The training
pipeline imports it from here (never a copy), and every bundle records ``NORMALIZATION_VERSION`` in its
card so that a model trained with another normalisation is refused at load time instead of silently
drifting (offline/online skew).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["NORMALIZATION_VERSION", "mask_digits", "normalize_text"]

#: Bumped whenever ``normalize_text`` changes behaviour; bundles carry the version they were trained with.
NORMALIZATION_VERSION = "txc-norm-1"

#: Runs of this many digits or more are card, account or reference numbers: they carry no category signal
#: and, in logs, they are personal data.
LONG_DIGIT_RUN = 6

_LONG_DIGITS = re.compile(rf"\d{{{LONG_DIGIT_RUN},}}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"\s+")
DIGIT_MASK = "#"


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

"""Brand gazetteer: a table of merchant names (match keys) to labels, looked up in a narration.

``match_key`` is the one folding rule for both sides: the training side builds the table's keys with it
(from name-suggestion-index brand names) and serving folds each narration with it before lookup, so a key
and a narration that spell a brand alike always meet.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["match_key"]

_APOSTROPHES = re.compile("['\u2019]")
# ``\w`` is letters, digits and underscore in every script; the underscore is punctuation here.
_NOT_ALPHANUMERIC = re.compile(r"[\W_]+")


def match_key(text: str) -> str:
    """Fold ``text`` into the form gazetteer keys are stored in.

    NFKD-decomposes and drops combining marks (``"Café"`` -> ``"cafe"``), lower-cases, deletes
    apostrophes (``'`` and ``’``: ``"McDonald's"`` -> ``"mcdonalds"``), turns every other character that
    is not a letter or digit into a space, collapses spaces and strips. The result is ``""`` or words of
    letters and digits separated by single spaces; ``match_key`` is idempotent.
    """
    decomposed = unicodedata.normalize("NFKD", text).lower()
    unaccented = "".join(char for char in decomposed if not unicodedata.combining(char))
    joined = _APOSTROPHES.sub("", unaccented)
    return _NOT_ALPHANUMERIC.sub(" ", joined).strip()

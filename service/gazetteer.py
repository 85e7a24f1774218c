"""Brand gazetteer: merchant names (match keys) mapped to labels, found in a narration's words.

``match_key`` is the one folding rule for both sides: the training side builds the table's keys with it
(from name-suggestion-index brand names) and serving folds each narration with it before lookup, so a key
and a narration that spell a brand alike always meet. A bundle may ship the table as ``gazetteer.tsv``::

    # txclassify gazetteer
    # source: name-suggestion-index 8.0.20260918
    # entries: 2
    seven eleven<TAB>GENERAL_MERCHANDISE
    tesco<TAB>FOOD_AND_DRINK

Header comment lines first (``source`` and ``entries`` required; ``matching`` optional), then one
``key<TAB>label`` line per entry, keys unique and already in ``match_key`` form, at most ``MAX_KEY_WORDS``
words. ``# matching: compact`` (see ``COMPACT``) also matches a brand whose words a statement glues or
splits ("mediamarkt" for "media markt", "mc donalds" for "mcdonalds"); without it keys match word for
word only (every table written before this rule). The label
``PASS`` (``-``) marks a phrase that names how the card paid, not whom ("apple pay", "google pay"): the
lookup steps over it, so "bea apple pay albert heijn" finds Albert Heijn, not Apple.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path

from service.errors import BundleError

__all__ = ["COMPACT", "EXACT", "MATCHINGS", "MAX_KEY_WORDS", "PASS", "Gazetteer", "match_key"]

#: The longest brand name, in words, that a key may have (and the longest n-gram a lookup tries).
MAX_KEY_WORDS = 5
#: The label of a phrase the lookup steps over (a payment method, not a merchant).
PASS = "-"
_TITLE = "# txclassify gazetteer"
#: Keys match whole words only, word for word.
EXACT = "exact"
#: Also: a narration word that is a multi-word key without its spaces, and 2 or 3 adjacent narration words
#: that, joined, are a key of one word or a multi-word key without its spaces.
COMPACT = "compact"
MATCHINGS = (EXACT, COMPACT)
#: A compact form is a key only from this many letters and digits on ("tkmaxx" yes, "b q" -> "bq" no).
COMPACT_MIN_CHARS = 5
#: A compact match joins at most this many narration words ("pak n save" -> "paknsave").
COMPACT_MAX_JOIN = 3

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
    if text.isascii():  # most narrations: nothing to decompose (same result, a third of the time)
        unaccented = text.lower()
    else:
        decomposed = unicodedata.normalize("NFKD", text).lower()
        unaccented = "".join(char for char in decomposed if not unicodedata.combining(char))
    joined = _APOSTROPHES.sub("", unaccented)
    return _NOT_ALPHANUMERIC.sub(" ", joined).strip()


class Gazetteer(Mapping[str, str]):
    """An immutable match-key -> label table with the ``source`` it was built from.

    Raises ``ValueError`` for a key that is empty, not in ``match_key`` form or longer than
    ``MAX_KEY_WORDS`` words, for an empty or multi-line label or source, and (when ``labels`` is given)
    for a label outside ``labels``.
    """

    def __init__(
        self,
        entries: Mapping[str, str],
        source: str,
        *,
        labels: Collection[str] | None = None,
        matching: str = EXACT,
    ) -> None:
        if not source.strip() or _breaks_a_line(source):
            raise ValueError(f"source {source!r} must be one non-empty line")
        if matching not in MATCHINGS:
            raise ValueError(f"matching {matching!r} is not one of {', '.join(MATCHINGS)}")
        for key, label in entries.items():
            problem = _key_problem(key) or _label_problem(label, labels)
            if problem:
                raise ValueError(f"entry {key!r} -> {label!r}: {problem}")
        self._index(dict(entries), source.strip(), matching)

    def _index(self, entries: dict[str, str], source: str, matching: str) -> None:
        self.source = source
        self.matching = matching
        self._entries = entries
        # The longest key starting with each word: a lookup tries only n-grams that can exist.
        self._longest: dict[str, int] = {}
        for key in self._entries:
            words = key.split(" ")
            self._longest[words[0]] = max(self._longest.get(words[0], 0), len(words))
        # Compact matching: multi-word keys without their spaces (dropped where two labels claim one form,
        # or where the form is already a key), and what joined narration words may spell.
        self._compact: dict[str, str] = {}
        self._joined: dict[str, str] = {}
        if matching == COMPACT:
            claims: dict[str, set[str]] = {}
            for key, label in entries.items():
                glued = key.replace(" ", "")
                if label != PASS and " " in key and len(glued) >= COMPACT_MIN_CHARS and glued not in entries:
                    claims.setdefault(glued, set()).add(label)
            self._compact = {glued: next(iter(ls)) for glued, ls in claims.items() if len(ls) == 1}
            single = {
                key: label
                for key, label in entries.items()
                if label != PASS and " " not in key and len(key) >= COMPACT_MIN_CHARS
            }
            self._joined = {**single, **self._compact}

    def __getitem__(self, key: str) -> str:
        return self._entries[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Gazetteer({len(self)} entries, source={self.source!r}, matching={self.matching!r})"

    def lookup(self, text: str) -> str | None:
        """The label of the key found in ``text``, else ``None``.

        Keys match whole words of ``match_key(text)`` only (``"shell"`` never matches ``"shellfish"``).
        When several keys occur, the leftmost wins, and of those starting at the same word the longest;
        a ``PASS`` key's words are stepped over (neither they nor any key inside them match). With
        ``COMPACT`` matching, where no key starts at a word, that word may be a multi-word key without its
        spaces, and that word joined with the next one or two may be a key ("media markt" finds
        "mediamarkt"), the fewest words first.
        """
        words = match_key(text).split(" ")
        longest = self._longest
        compact = self._compact
        joined = self._joined
        count = len(words)
        start = 0
        while start < count:
            most = longest.get(words[start])
            step = 1
            passed = False
            if most is not None:
                for end in range(min(start + most, count), start, -1):
                    label = self._entries.get(" ".join(words[start:end]))
                    if label == PASS:
                        step = end - start
                        passed = True
                        break
                    if label is not None:
                        return label
            if joined and not passed:
                label = compact.get(words[start])
                if label is not None:
                    return label
                for end in range(start + 2, min(start + COMPACT_MAX_JOIN, count) + 1):
                    label = joined.get("".join(words[start:end]))
                    if label is not None:
                        return label
            start += step
        return None

    def render(self) -> str:
        """The table as ``write`` writes it: TSV, header first, then entries sorted by key."""
        lines = [_TITLE, f"# source: {self.source}", f"# entries: {len(self)}"]
        if self.matching != EXACT:  # tables of the exact rule read the same as before the header existed
            lines.append(f"# matching: {self.matching}")
        lines.extend(f"{key}\t{self._entries[key]}" for key in sorted(self._entries))
        return "\n".join(lines) + "\n"

    def write(self, path: Path | str) -> None:
        """Write the table as TSV (``render``), readable by ``from_file``."""
        Path(path).write_text(self.render(), encoding="utf-8")

    @classmethod
    def from_file(cls, path: Path | str, *, labels: Collection[str] | None = None) -> Gazetteer:
        """Read a table written by ``write``; every label must be in ``labels`` when given.

        Raises ``BundleError`` with one line naming the file, the line number and the problem.
        """
        path = Path(path)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise BundleError(f"{path}: unreadable gazetteer ({' '.join(str(error).split())})") from error
        header: dict[str, str] = {}
        entries: dict[str, str] = {}
        first_line: dict[str, int] = {}
        for number, line in enumerate(lines, start=1):
            where = f"{path}:{number}"
            if line.startswith("#") and not entries:
                name, _, value = line[1:].partition(":")
                if number > 1 and value:
                    header[name.strip()] = value.strip()
                elif line != _TITLE:
                    raise BundleError(f"{where}: expected {_TITLE!r} or a '# name: value' header line")
                continue
            key, tab, label = line.partition("\t")
            if line.startswith("#"):
                problem: str | None = "a '#' line after the first entry (header lines come first)"
            elif not tab or "\t" in label:
                problem = "expected 'key<TAB>label'"
            else:
                problem = _key_problem(key) or _label_problem(label, labels)
            if problem:
                raise BundleError(f"{where}: {problem}")
            if key in entries:
                raise BundleError(f"{where}: key {key!r} repeats line {first_line[key]}")
            entries[key] = label
            first_line[key] = number
        if not lines or lines[0] != _TITLE:
            raise BundleError(f"{path}:1: not a gazetteer file (expected {_TITLE!r})")
        if not header.get("source"):
            raise BundleError(f"{path}: header line '# source: ...' is missing")
        count = header.get("entries", "")
        if not count.isdigit() or int(count) != len(entries):
            raise BundleError(f"{path}: header says '# entries: {count}' but the file has {len(entries)}")
        source = header["source"]
        if _breaks_a_line(source):
            raise BundleError(f"{path}: header line '# source: ...' holds a tab")
        matching = header.get("matching", EXACT)
        if matching not in MATCHINGS:
            raise BundleError(
                f"{path}: header says '# matching: {matching}'; this service knows {', '.join(MATCHINGS)}"
            )
        gazetteer = cls.__new__(cls)  # every entry was checked above, with its line number
        gazetteer._index(entries, source, matching)
        return gazetteer


def _breaks_a_line(text: str) -> bool:
    """True if ``text`` would not stay one TSV field on one line."""
    return len(text.splitlines()) > 1 or "\t" in text


def _key_problem(key: str) -> str | None:
    if not key:
        return "empty key"
    if match_key(key) != key:
        return f"key {key!r} is not in match_key form ({match_key(key)!r})"
    if key.count(" ") >= MAX_KEY_WORDS:
        return f"key {key!r} has more than {MAX_KEY_WORDS} words"
    return None


def _label_problem(label: str, labels: Collection[str] | None) -> str | None:
    if not label or any(char.isspace() for char in label):
        return f"label {label!r} is empty or holds whitespace"
    if labels is not None and label not in labels and label != PASS:
        return f"label {label!r} is not one of the bundle's labels"
    return None

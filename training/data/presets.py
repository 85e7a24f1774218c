"""Category words in our countries' languages from iD's tagging schema (``@openstreetmap/id-tagging-schema``).

The schema is the maintained, translated list of OpenStreetMap presets that the iD editor shows: for each
tag (``shop=bakery``) a name and aliases in dozens of languages ("Panadería", "Bäckerei", "Boulangerie",
"Bakkerij", "Padaria"). Through the same reviewed ``osm_tags.tsv`` that labels name-suggestion-index brands,
each preset's names become category words of a label in each language, which compose the local
businesses of every country ("PANADERIA SAN JOSE", "BÄCKEREI MÜLLER", "SMITHS CORNER SHOP").

- :func:`fetch_presets` fetches the pinned npm package (tarball sha256-pinned) and keeps the preset
  table and our languages' translations under the cache directory;
- :func:`load_category_words` reads them: ``language -> label -> words`` (upper-case, file order).

Only preset names and aliases are used, not search terms: terms are loose ("gift" and "tooth" are terms
of ``shop=chemist``). ``python -m training.data.presets --cache-dir artifacts/presets`` prints the counts.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path

from service.bundle import file_sha256
from training.data.brands import DATA_DIR, BrandIndexError, load_tag_table, npm_pack
from training.labels import LABELS

__all__ = [
    "PRESETS_PACKAGE",
    "PRESETS_SHA256",
    "PRESETS_VERSION",
    "fetch_presets",
    "load_category_words",
    "load_country_languages",
]

PRESETS_PACKAGE = "@openstreetmap/id-tagging-schema"
PRESETS_VERSION = "7.2.0"
#: sha256 of the npm tarball ``openstreetmap-id-tagging-schema-7.2.0.tgz`` (``npm pack``).
PRESETS_SHA256 = "5c95a50a232a699778e821b19b8c4b92f1719193ffb9069a88545ed9dff55b6b"
_PRESETS_MEMBER = "package/dist/presets.json"
_TRANSLATION_MEMBER = "package/dist/translations/{language}.json"
_MANIFEST = "SHA256SUMS"
#: Fewer letters than this make no category word ("Bar" has 3 and is kept; "Spa" too).
_MIN_LETTERS = 3
#: Preset keys of places that take card payments; power lines, masts and ticket validators are not.
_BUSINESS_KEYS = frozenset(("shop", "amenity", "tourism", "leisure", "craft", "office", "healthcare", "club"))


def load_country_languages(path: Path = DATA_DIR / "languages.tsv") -> dict[str, tuple[str, ...]]:
    """Country -> the schema languages its statements are written in (``languages.tsv``, reviewed)."""
    from training.data.brands import COUNTRIES, _tsv_rows

    languages: dict[str, tuple[str, ...]] = {}
    for number, row in _tsv_rows(path, ("country", "languages", "note")):
        country, codes = row["country"], tuple(code for code in row["languages"].split(",") if code)
        if country not in COUNTRIES or country in languages or not codes:
            raise ValueError(f"{path}:{number}: one row per country of ours, with its languages")
        languages[country] = codes
    missing = sorted(set(COUNTRIES) - set(languages))
    if missing:
        raise ValueError(f"{path}: no languages for {missing}")
    return languages


def _languages() -> list[str]:
    return sorted({code for codes in load_country_languages().values() for code in codes})


def fetch_presets(cache_dir: Path, *, npm: str = "npm") -> Path:
    """Return ``cache_dir/id-tagging-schema-<PRESETS_VERSION>/`` holding ``presets.json`` and
    ``translations/<language>.json`` for our languages, fetched with ``npm pack`` unless a complete copy
    is already there. The tarball is checked against the pinned sha256; the kept files against the
    manifest written from it."""
    target = cache_dir / f"id-tagging-schema-{PRESETS_VERSION}"
    members = [_PRESETS_MEMBER, *(_TRANSLATION_MEMBER.format(language=code) for code in _languages())]
    if _complete(target, members):
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="presets-") as scratch:
        tarball = npm_pack(PRESETS_PACKAGE, PRESETS_VERSION, PRESETS_SHA256, Path(scratch), npm=npm)
        staging = Path(scratch) / "out"
        with tarfile.open(tarball, "r:gz") as archive:
            for name in members:
                member = archive.extractfile(name)
                if member is None:
                    raise BrandIndexError(f"{tarball.name} has no {name}")
                out_path = staging / _relative(name)
                out_path.parent.mkdir(parents=True, exist_ok=True)
                with member, out_path.open("wb") as out:
                    shutil.copyfileobj(member, out)
        sums = [f"{file_sha256(staging / _relative(name))}  {_relative(name)}" for name in members]
        (staging / _MANIFEST).write_text("\n".join(sums) + "\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        shutil.move(staging, target)
    return target


def _relative(member: str) -> str:
    return member.removeprefix("package/dist/")


def _complete(target: Path, members: list[str]) -> bool:
    manifest = target / _MANIFEST
    if not manifest.is_file():
        return False
    sums: dict[str, str] = {}
    for line in manifest.read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        sums[name] = digest
    wanted = [_relative(name) for name in members]
    return all(name in sums and (target / name).is_file() for name in wanted) and all(
        file_sha256(target / name) == sums[name] for name in wanted
    )


def _preset_label(tags: object, table: Mapping[str, str | None]) -> str | None:
    """The label of a preset's tags: exactly one ``key=value`` pair that the tag table maps."""
    if not isinstance(tags, dict) or len(tags) != 1:
        return None
    ((key, value),) = tags.items()
    if key not in _BUSINESS_KEYS:
        return None
    return table.get(f"{key}={value}") if isinstance(value, str) and value != "*" else None


def load_category_words(directory: Path) -> dict[str, dict[str, tuple[str, ...]]]:
    """``language -> label -> words`` from a directory written by :func:`fetch_presets` (or a fixture of
    the same layout): each mapped preset's name and aliases in that language, upper-case, split on " / "
    ("Tienda de bricolaje / Hágalo usted mismo" gives two), without parentheses, in preset order."""
    presets = json.loads((directory / "presets.json").read_text(encoding="utf-8"))
    table = {tag: rule.label for tag, rule in load_tag_table().items()}
    labels = {preset_id: _preset_label(preset.get("tags"), table) for preset_id, preset in presets.items()}
    words: dict[str, dict[str, tuple[str, ...]]] = {}
    for path in sorted((directory / "translations").glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        (language, body), *_ = document.items()
        translated = body.get("presets", {}).get("presets", {})
        per_label: dict[str, dict[str, None]] = {}
        for preset_id, entry in translated.items():
            label = labels.get(preset_id)
            if label is None or not isinstance(entry, dict):
                continue
            names = [entry.get("name", ""), *entry.get("aliases", [])]
            for name in names:
                for part in str(name).split(" / "):
                    word = " ".join(part.split("(")[0].split()).upper()
                    if sum(char.isalpha() for char in word) >= _MIN_LETTERS and len(word.split()) <= 3:
                        per_label.setdefault(label, {})[word] = None
        words[language] = {label: tuple(per_label[label]) for label in LABELS if per_label.get(label)}
    return words


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.data.presets", description=__doc__)
    parser.add_argument("--cache-dir", type=Path, default=Path("artifacts/presets"))
    args = parser.parse_args(argv)
    words = load_category_words(fetch_presets(args.cache_dir))
    print(f"{PRESETS_PACKAGE} {PRESETS_VERSION}: category words per language and label")
    for language, per_label in sorted(words.items()):
        counts = ", ".join(f"{label} {len(ws)}" for label, ws in per_label.items())
        print(f"  {language:<6} {sum(map(len, per_label.values())):>5}  {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

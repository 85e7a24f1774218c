"""Merchant knowledge from name-suggestion-index (NSI, BSD-3-Clause, see ``brands/NOTICE``).

Four steps, their reviewed data files under ``training/data/brands/``:

- :func:`fetch_brand_index` fetches the pinned npm package and extracts ``dist/json/nsi.json`` (both
  sha256-pinned, so a build never silently trains on a different index);
- :func:`load_brand_index` reads it into :class:`Brand` records: each item's OSM tag is labelled by the
  reviewed table ``osm_tags.tsv`` (with ``operator_names.tsv`` and ``brand_overrides.tsv`` for the
  exceptions) and its ``locationSet`` resolved to our 20 countries (``regions.tsv``);
- :func:`gazetteer_entries` turns the brands into ``match_key -> label`` entries for the serving gazetteer,
  without stop words (``exclude_words.txt``) or ambiguous keys;
- :func:`mcc_category_words` gives each label the ISO 18245 category words of ``mcc_labels.tsv``.

``python -m training.data.brands fetch --cache-dir artifacts/brands`` fetches and prints coverage;
``... report`` also prints the tag, country and gazetteer tables.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from service.bundle import file_sha256
from service.gazetteer import MAX_KEY_WORDS, PASS, match_key
from training.labels import LABELS

__all__ = [
    "COUNTRIES",
    "DATA_DIR",
    "NARRATION_WORDS",
    "NSI_JSON_SHA256",
    "NSI_SHA256",
    "NSI_VERSION",
    "WORLD",
    "Brand",
    "BrandIndex",
    "BrandIndexError",
    "Disagreement",
    "TagRule",
    "fetch_brand_index",
    "gazetteer_entries",
    "load_brand_index",
    "load_common_word_brands",
    "load_exclude_words",
    "load_tag_table",
    "mcc_category_words",
    "mcc_labels",
    "npm_pack",
    "verify_sha256",
]

NSI_PACKAGE = "name-suggestion-index"
NSI_VERSION = "8.0.20260918"
#: sha256 of the npm tarball ``name-suggestion-index-8.0.20260918.tgz`` (``npm pack``).
NSI_SHA256 = "3ee22f0f0a99528ac9c65a57211575defd968e21fd6374e746bfd02e94422121"
#: sha256 of ``package/dist/json/nsi.json`` inside it, checked on the cached copy.
NSI_JSON_SHA256 = "96f105218058d3b68ef69c93f3d8f46f6bc714c70e9ef7d9f9e2f5c006585eb1"
_NSI_MEMBER = "package/dist/json/nsi.json"

DATA_DIR = Path(__file__).with_name("brands")
#: The product's countries (ISO 3166-1 alpha-2); ``WORLD`` in a brand's countries means all of them.
COUNTRIES: tuple[str, ...] = (
    *("US", "CA", "GB", "IE", "AU", "NZ", "ZA", "NG", "KE", "GH"),
    *("IN", "SG", "DE", "FR", "ES", "IT", "NL", "BR", "MX", "AE"),
)
WORLD = "*"
_OURS = frozenset(COUNTRIES)
_TREES = ("brands", "operators", "flags")
_UNMAPPED = "-"
#: A gazetteer key is kept when its top label has at least this share of the brands voting for it.
_MAJORITY = 2 / 3
#: A single word naming brands under this many labels or more is a common word, not a brand.
_GENERIC_NAME_LABELS = 3
#: A one-word key this frequent (wordfreq Zipf scale: 4.5 is about once in 30,000 words) in any of
#: ``_WORD_LANGUAGES`` is an everyday word ("una", "more", "team", "lucky", "hall"), not a brand, unless
#: ``common_word_brands.txt`` keeps it by review. The gazetteer hint fired on such words inside local
#: businesses' names: TF-IDF proxy on the dev set, 2026-12-02, see docs/model.md.
_COMMON_ZIPF = 4.5
_WORD_LANGUAGES = ("en", "es", "fr", "de", "it", "nl", "pt")
#: The first word of a multi-word brand name is also a key (statements truncate: "BUNNINGS" for
#: "Bunnings Warehouse") when it has at least this many letters, is no word of ``_WORD_LANGUAGES``
#: (Zipf below ``_RARE_ZIPF``; wordfreq knows brands from web text: "bunnings" is 2.3), no other label
#: claims it, and the brand is a shop, venue or station: operators of utilities, services and
#: government bodies are mostly named after places ("Kenosha County ...").
_PREFIX_MIN_LETTERS = 5
_RARE_ZIPF = 2.5
_PREFIX_LABELS = frozenset(
    {
        *("FOOD_AND_DRINK", "GENERAL_MERCHANDISE", "HOME_IMPROVEMENT", "PERSONAL_CARE", "MEDICAL"),
        *("TRANSPORTATION", "ENTERTAINMENT", "TRAVEL"),
    }
)
_DISAMBIGUATION = re.compile(r"\s*\([^)]*\)\s*$")
#: Tag values that are other spellings of a brand (``alt_name`` and friends may list several, ``;``-joined).
_NAME_TAGS = (
    *("name", "brand", "operator", "brand:en", "name:en", "operator:en"),
    *("official_name", "short_name", "brand:short", "operator:short", "alt_name"),
)


class BrandIndexError(RuntimeError):
    """The brand index cannot be fetched or read; the message is one line that says what to do."""


@dataclass(frozen=True)
class Brand:
    """One brand or operator: its label (from its OSM tag), the countries of ours it is in, its spellings."""

    name: str
    label: str
    countries: frozenset[str]  # ISO alpha-2 codes of ours, or {WORLD}
    osm_tag: str  # the tag that decided the label, e.g. "shop=supermarket"
    match_names: tuple[str, ...]
    wikidata: str | None


@dataclass(frozen=True)
class Disagreement:
    """A brand listed under tags whose labels differ, and the label the documented rule chose."""

    name: str
    wikidata: str | None
    label: str
    tags: tuple[tuple[str, str], ...]  # (tag, its label), sorted


@dataclass(frozen=True)
class BrandIndex:
    """The brands of one NSI version that are in our countries under a mapped tag (sorted by name)."""

    version: str
    brands: tuple[Brand, ...]
    #: Items per tag left unmapped (label "-" in the table, or a tag the table does not list).
    unmapped_tags: Mapping[str, int]
    #: Items' location codes that resolve to no country (points, unknown identifiers), per code.
    unknown_locations: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    #: Brands under mapped tags but in none of our countries.
    outside_countries: int = 0
    disagreements: tuple[Disagreement, ...] = ()


@dataclass(frozen=True)
class TagRule:
    """One row of ``osm_tags.tsv``; ``label`` is ``None`` for a reviewed, unmapped tag."""

    tag: str
    label: str | None
    priority: int
    note: str


# --- pinned fetch -------------------------------------------------------------------------------------


def verify_sha256(path: Path, expected: str) -> None:
    """Raise :class:`BrandIndexError` unless the file's sha256 is ``expected``."""
    actual = file_sha256(path)
    if actual != expected:
        raise BrandIndexError(f"{path}: sha256 mismatch (expected {expected}, got {actual}); refusing it")


def npm_pack(package: str, version: str, sha256: str, scratch: Path, *, npm: str = "npm") -> Path:
    """``npm pack package@version`` into ``scratch``; the tarball, checked against the pinned ``sha256``.
    Raises :class:`BrandIndexError` (one line) without npm, on a failed pack or a digest mismatch."""
    executable = shutil.which(npm)
    spec = f"{package}@{version}"
    if executable is None:
        raise BrandIndexError(f"{npm} not found on PATH: install Node.js and npm to fetch {spec}")
    done = subprocess.run(
        [executable, "pack", spec, "--silent"], cwd=scratch, capture_output=True, text=True, check=False
    )
    tarballs = sorted(scratch.glob("*.tgz"))
    if done.returncode != 0 or len(tarballs) != 1:
        last = (done.stderr.strip().splitlines() or ["no tarball written"])[-1]
        raise BrandIndexError(f"npm pack {spec} failed (exit {done.returncode}): {last}")
    verify_sha256(tarballs[0], sha256)
    return tarballs[0]


def fetch_brand_index(cache_dir: Path, *, npm: str = "npm") -> Path:
    """Return ``cache_dir/nsi-<NSI_VERSION>.json``, fetching it with ``npm pack`` unless a copy with the
    pinned sha256 is already there. The tarball and the extracted file are both checked."""
    target = cache_dir / f"nsi-{NSI_VERSION}.json"
    if target.is_file() and file_sha256(target) == NSI_JSON_SHA256:
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="nsi-") as scratch:
        tarball = npm_pack(NSI_PACKAGE, NSI_VERSION, NSI_SHA256, Path(scratch), npm=npm)
        staging = Path(scratch) / "nsi.json"
        with tarfile.open(tarball, "r:gz") as archive:
            member = archive.extractfile(_NSI_MEMBER)
            if member is None:
                raise BrandIndexError(f"{tarball.name} has no {_NSI_MEMBER}")
            with member, staging.open("wb") as out:
                shutil.copyfileobj(member, out)
        verify_sha256(staging, NSI_JSON_SHA256)
        shutil.move(staging, target)
    return target


# --- data files -----------------------------------------------------------------------------------------


def _tsv_rows(path: Path, columns: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) of a TSV data file: ``#`` comments, then a header naming ``columns``."""
    header: list[str] | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if header is None:
            if cells != list(columns):
                raise ValueError(f"{path}:{number}: header must be {columns}, got {cells}")
            header = cells
            continue
        if len(cells) != len(header):
            raise ValueError(f"{path}:{number}: expected {len(header)} tab-separated cells, got {len(cells)}")
        yield number, dict(zip(header, cells, strict=True))


def _label_or_none(path: Path, number: int, label: str) -> str | None:
    if label == _UNMAPPED:
        return None
    if label not in LABELS:
        raise ValueError(f"{path}:{number}: unknown label {label!r}")
    return label


def load_tag_table(path: Path = DATA_DIR / "osm_tags.tsv") -> dict[str, TagRule]:
    """The reviewed tag table; raises ``ValueError`` for a repeated tag, a bad label or priority."""
    table: dict[str, TagRule] = {}
    for number, row in _tsv_rows(path, ("tag", "label", "priority", "note")):
        tag = row["tag"]
        if not re.fullmatch(r"[a-z_:]+=[a-z0-9_-]+(\+[a-z_:]+=[a-z0-9_;-]+)?", tag):
            raise ValueError(f"{path}:{number}: tag {tag!r} is not key=value[+subkey=subvalue]")
        if tag in table:
            raise ValueError(f"{path}:{number}: tag {tag!r} is listed twice")
        if not row["priority"].isdigit():
            raise ValueError(f"{path}:{number}: priority {row['priority']!r} is not a whole number")
        label = _label_or_none(path, number, row["label"])
        table[tag] = TagRule(tag, label, int(row["priority"]), row["note"])
    return table


def _load_regions(path: Path = DATA_DIR / "regions.tsv") -> dict[str, frozenset[str]]:
    regions: dict[str, frozenset[str]] = {}
    for number, row in _tsv_rows(path, ("code", "countries", "note")):
        members = row["countries"]
        if members == WORLD:
            regions[row["code"]] = _OURS
        elif members == _UNMAPPED:
            regions[row["code"]] = frozenset()
        else:
            countries = frozenset(members.split(","))
            if not countries <= _OURS:
                raise ValueError(f"{path}:{number}: {sorted(countries - _OURS)} are not our countries")
            regions[row["code"]] = countries
    return regions


def load_exclude_words(path: Path = DATA_DIR / "exclude_words.txt") -> frozenset[str]:
    """The hand-kept gazetteer stop words (already in ``match_key`` form)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    words = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    bad = [word for word in words if match_key(word) != word or " " in word]
    if bad:
        raise ValueError(f"{path}: not single match-key words: {bad}")
    return frozenset(words)


# --- locations ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Area:
    countries: frozenset[str]
    whole: bool  # the code covers its countries entirely (a sub-national area does not)


def _area(code: object, regions: Mapping[str, frozenset[str]]) -> _Area | None:
    """Our countries in one ``locationSet`` code; ``None`` for a code of no known form."""
    if not isinstance(code, str):
        return None  # a [lon, lat, radius] point: no country lookup here
    code = code.lower()
    if code in regions:
        return _Area(regions[code], whole=not code.endswith(".geojson"))
    if re.fullmatch(r"[a-z]{2}", code):
        return _Area(frozenset({code.upper()}) & _OURS, whole=True)
    prefix = re.match(r"([a-z]{2})-[a-z0-9]", code)
    if prefix:
        return _Area(frozenset({prefix.group(1).upper()}) & _OURS, whole=False)
    return None


def _countries(
    location_set: Mapping[str, Any], regions: Mapping[str, frozenset[str]], unknown: Counter[str]
) -> frozenset[str]:
    """Our countries in ``include`` minus those that an ``exclude`` code covers entirely."""
    included: set[str] = set()
    excluded: set[str] = set()
    world = False
    for side, codes in (("include", included), ("exclude", excluded)):
        for code in location_set.get(side, ()):
            area = _area(code, regions)
            if area is None:
                unknown["point" if not isinstance(code, str) else code.lower()] += 1
            elif side == "include":
                codes.update(area.countries)
                world = world or (isinstance(code, str) and regions.get(code.lower()) is _OURS)
            elif area.whole:
                codes.update(area.countries)
    if world and not excluded:
        return frozenset({WORLD})
    return frozenset(included - excluded)


def _merge_countries(areas: Iterable[frozenset[str]]) -> frozenset[str]:
    merged: set[str] = set()
    for area in areas:
        if WORLD in area:
            return frozenset({WORLD})
        merged |= area
    return frozenset(merged)


# --- loader ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    name: str
    rule: TagRule
    countries: frozenset[str]
    spellings: tuple[str, ...]


def _read_index(path: Path) -> tuple[str, Mapping[str, Any]]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BrandIndexError(f"{path}: cannot read the brand index: {error}") from error
    categories = raw.get("nsi") if isinstance(raw, dict) else None
    if not isinstance(categories, dict):
        raise BrandIndexError(f"{path}: not an nsi.json file (no 'nsi' object of categories)")
    version = raw.get("_meta", {}).get("version")
    return (version if isinstance(version, str) and version else "unknown"), categories


def _rules_by_tag(table: Mapping[str, TagRule]) -> dict[str, list[tuple[str, str, TagRule]]]:
    """tag -> its qualified rules as (subkey, subvalue, rule); the plain rule is looked up directly."""
    qualified: dict[str, list[tuple[str, str, TagRule]]] = defaultdict(list)
    for rule in table.values():
        base, plus, qualifier = rule.tag.partition("+")
        if plus:
            subkey, _, subvalue = qualifier.partition("=")
            qualified[base].append((subkey, subvalue, rule))
    return qualified


def _rule_for(
    tag: str,
    tags: Mapping[str, str],
    table: Mapping[str, TagRule],
    qualified: Mapping[str, list[tuple[str, str, TagRule]]],
) -> TagRule | None:
    for subkey, subvalue, rule in qualified.get(tag, ()):
        if tags.get(subkey) == subvalue:
            return rule
    return table.get(tag)


def _item_name(item: Mapping[str, Any]) -> str:
    """The item's name; an English one where the name has no Latin letters or digits (statements in our
    countries print ADNOC, not its Arabic spelling, which stays a match name)."""
    tags = item.get("tags", {})
    names = [tags.get(key) for key in ("name", "brand", "operator")]
    names.append(_DISAMBIGUATION.sub("", str(item.get("displayName", ""))).strip())
    name = next(value.strip() for value in names if isinstance(value, str) and value.strip())
    if not re.search("[a-z0-9]", match_key(name)):
        for key in ("name:en", "brand:en", "operator:en"):
            english = tags.get(key)
            if isinstance(english, str) and re.search("[a-z0-9]", match_key(english)):
                return english.strip()
    return name


def _spellings(item: Mapping[str, Any]) -> tuple[str, ...]:
    tags = item.get("tags", {})
    found = [str(name) for name in item.get("matchNames", ())]
    for key in _NAME_TAGS:
        value = tags.get(key)
        if isinstance(value, str):
            found += [part.strip() for part in value.split(";")]
    found.append(_DISAMBIGUATION.sub("", str(item.get("displayName", ""))).strip())
    return tuple(name for name in found if name)


def _wikidata(item: Mapping[str, Any], tree: str) -> str | None:
    tags = item.get("tags", {})
    keys = ("operator:wikidata", "brand:wikidata") if tree == "operators" else ("brand:wikidata",)
    for key in keys:
        value = tags.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _load_overrides(path: Path = DATA_DIR / "brand_overrides.tsv") -> dict[str, str]:
    overrides: dict[str, str] = {}
    for number, row in _tsv_rows(path, ("wikidata", "label", "note")):
        label = _label_or_none(path, number, row["label"])
        if label is None or row["wikidata"] in overrides:
            raise ValueError(f"{path}:{number}: an override needs one label and a wikidata id listed once")
        overrides[row["wikidata"]] = label
    return overrides


#: An operator-name rule counts as a tag of this priority: it outranks every row of ``osm_tags.tsv``.
_NAME_RULE_PRIORITY = 5


def _load_operator_names(path: Path = DATA_DIR / "operator_names.tsv") -> list[tuple[str, str, str]]:
    """(`` phrase ``, label, note) in file order, the phrase padded with spaces for whole-word matching."""
    rules: list[tuple[str, str, str]] = []
    for number, row in _tsv_rows(path, ("phrase", "label", "note")):
        label = _label_or_none(path, number, row["label"])
        if label is None or match_key(row["phrase"]) != row["phrase"]:
            raise ValueError(f"{path}:{number}: a phrase in match_key form and a label are required")
        rules.append((f" {row['phrase']} ", label, row["note"]))
    return rules


def _named_rule(rule: TagRule, name: str, names: Sequence[tuple[str, str, str]]) -> TagRule:
    """``rule``, or the first operator-name rule whose phrase is whole words of ``name``."""
    padded = f" {match_key(name)} "
    for phrase, label, note in names:
        if phrase in padded:
            return TagRule(rule.tag, label, _NAME_RULE_PRIORITY, f"operator named{phrase}: {note}")
    return rule


def _resolve(items: Sequence[_Item]) -> _Item:
    """The item whose tag decides a brand's label: highest priority, then the label with the most of the
    brand's items at that priority, then the earlier label in ``LABELS``; its most common tag (then the
    alphabetically first)."""
    top = max(item.rule.priority for item in items)
    leaders = [item for item in items if item.rule.priority == top]
    labels = Counter(item.rule.label for item in leaders)
    label = min(labels, key=lambda name: (-labels[name], LABELS.index(str(name))))
    tags = Counter(item.rule.tag for item in leaders if item.rule.label == label)
    tag = min(tags, key=lambda name: (-tags[name], name))
    return next(item for item in leaders if item.rule.tag == tag)


def _brand(items: Sequence[_Item], wikidata: str | None, overrides: Mapping[str, str]) -> Brand:
    leader = _resolve(items)
    key = match_key(leader.name)
    label = overrides.get(wikidata or "", str(leader.rule.label))
    others: dict[str, str] = {}
    # Spellings of items under another label stay out ("tesco petrol station" is not a supermarket).
    for item in (item for item in items if item.rule.label == label):
        for spelling in (item.name, *item.spellings):
            spelled = match_key(spelling)
            if spelled and spelled != key:
                others.setdefault(spelled, spelling)
    countries = _merge_countries(item.countries for item in items)
    names = tuple(others[spelled] for spelled in sorted(others))
    return Brand(leader.name, label, countries, leader.rule.tag, names, wikidata)


#: The tag of a supermarket chain's small stores ("Tesco Express") and of the chain itself.
_SMALL_FORMAT_TAG = "shop=convenience"
_SUPERMARKET_TAG = "shop=supermarket"


def _small_formats(brands: Sequence[Brand]) -> list[Brand]:
    """A supermarket chain's small stores keep the chain's label: OSM tags "Tesco Express", "Carrefour
    City" or "REWE To Go" shop=convenience (GENERAL_MERCHANDISE), but card schemes code them as grocery
    stores (MCC 5411) and a statement reader sees the supermarket (docs/taxonomy.md). A convenience brand
    whose name is a supermarket brand's name and more words, in a country of that brand, takes its label."""
    chains: dict[str, list[Brand]] = defaultdict(list)
    for brand in brands:
        if brand.osm_tag == _SUPERMARKET_TAG:
            chains[match_key(brand.name)].append(brand)
    out: list[Brand] = []
    for brand in brands:
        words = match_key(brand.name).split(" ")
        if brand.osm_tag == _SMALL_FORMAT_TAG:
            for n in range(len(words) - 1, 0, -1):
                shared = [
                    chain
                    for chain in chains.get(" ".join(words[:n]), ())
                    if WORLD in chain.countries
                    or WORLD in brand.countries
                    or chain.countries & brand.countries
                ]
                if shared:
                    brand = replace(brand, label=shared[0].label)
                    break
        out.append(brand)
    return out


def load_brand_index(path: Path) -> BrandIndex:
    """Read an ``nsi.json`` (the fetched one or a fixture with its structure) into a :class:`BrandIndex`.

    Items of the ``brands``, ``operators`` and ``flags`` trees whose tag ``osm_tags.tsv`` maps become brands,
    grouped by (``match_key`` of the name, Wikidata id): one brand's items under several tags merge, their
    countries unite and the label follows :func:`_resolve` (or ``brand_overrides.tsv``). An operator whose
    name says what it is (``operator_names.tsv``: "... Council", "Stadtwerke ...") takes that label. Brands
    in none of our countries are left out and counted.
    """
    version, categories = _read_index(path)
    table = load_tag_table()
    qualified = _rules_by_tag(table)
    regions = _load_regions()
    overrides = _load_overrides()
    operator_names = _load_operator_names()
    unmapped: Counter[str] = Counter()
    unknown: Counter[str] = Counter()
    groups: dict[tuple[str, str | None], list[_Item]] = defaultdict(list)
    for category in sorted(categories):
        tree, _, kind = category.partition("/")
        if tree not in _TREES:
            continue
        key, _, value = kind.partition("/")
        tag = f"{key}={value}"
        for item in categories[category].get("items", ()):
            rule = _rule_for(tag, item.get("tags", {}), table, qualified)
            if rule is None or rule.label is None:
                unmapped[tag if rule is None else rule.tag] += 1
                continue
            name = _item_name(item)
            if not match_key(name):
                continue
            if tree == "operators":
                rule = _named_rule(rule, name, operator_names)
            countries = _countries(item.get("locationSet", {}), regions, unknown)
            mapped = _Item(name, rule, countries, _spellings(item))
            groups[(match_key(name), _wikidata(item, tree))].append(mapped)
    brands: list[Brand] = []
    disagreements: list[Disagreement] = []
    outside = 0
    for (_, wikidata), items in groups.items():
        brand = _brand(items, wikidata, overrides)
        if not brand.countries:
            outside += 1
            continue
        brands.append(brand)
        tag_labels = sorted({(item.rule.tag, str(item.rule.label)) for item in items})
        if len({label for _, label in tag_labels}) > 1:
            disagreements.append(Disagreement(brand.name, wikidata, brand.label, tuple(tag_labels)))
    # A name the gazetteer review settled (gazetteer_keys.tsv) means that label on a statement, whichever
    # of the same-named index brands the narration comes from: the generator must not teach the opposite.
    reviewed = _load_gazetteer_keys()
    brands = [replace(brand, label=reviewed.get(match_key(brand.name), brand.label)) for brand in brands]
    brands = _small_formats(brands)
    brands.sort(key=lambda brand: (match_key(brand.name), brand.name, brand.wikidata or ""))
    disagreements.sort(key=lambda row: (match_key(row.name), row.wikidata or ""))
    return BrandIndex(
        version,
        tuple(brands),
        MappingProxyType(dict(sorted(unmapped.items()))),
        MappingProxyType(dict(sorted(unknown.items()))),
        outside,
        tuple(disagreements),
    )


# --- gazetteer ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GazetteerStats:
    """Why keys were dropped, for the report."""

    candidates: int
    ambiguous: int
    too_short: int
    too_long: int
    excluded: int
    common: int = 0  # everyday one-word keys (wordfreq), see ``_COMMON_ZIPF``


def _generic_names(index: BrandIndex) -> frozenset[str]:
    """Single words that are the whole name of brands under ``_GENERIC_NAME_LABELS`` labels or more."""
    labels: dict[str, set[str]] = defaultdict(set)
    for brand in index.brands:
        key = match_key(brand.name)
        if " " not in key:
            labels[key].add(brand.label)
    return frozenset(key for key, seen in labels.items() if len(seen) >= _GENERIC_NAME_LABELS)


def _votes(index: BrandIndex, hand_kept: Iterable[tuple[str, str]] = ()) -> dict[str, Counter[str]]:
    """key -> label votes, one per brand. A key that is some brand's own name counts only the brands so
    named: one brand's alternative spelling never outvotes another brand's name (Shell lists "coles").
    ``hand_kept`` (name, label) pairs vote as brands' own names."""
    named: dict[str, Counter[str]] = defaultdict(Counter)
    spelled: dict[str, Counter[str]] = defaultdict(Counter)
    for brand in index.brands:
        key = match_key(brand.name)
        named[key][brand.label] += 1
        for other in {match_key(name) for name in brand.match_names} - {key}:
            spelled[other][brand.label] += 1
    for name, label in dict.fromkeys(hand_kept):
        named[match_key(name)][label] += 1
    votes = dict(spelled)
    votes.update(named)
    return votes


def load_common_word_brands(path: Path = DATA_DIR / "common_word_brands.txt") -> frozenset[str]:
    """Reviewed one-word brand keys kept although they are everyday words ("next", "three", "costa")."""
    return load_exclude_words(path)


def _zipf(word: str) -> float:
    """The word's highest frequency over ``_WORD_LANGUAGES`` (wordfreq, ``[train]`` extra)."""
    from wordfreq import zipf_frequency

    return max(zipf_frequency(word, language) for language in _WORD_LANGUAGES)


def _prefix_votes(index: BrandIndex, votes: Mapping[str, Counter[str]]) -> dict[str, Counter[str]]:
    """First words of multi-word brand names that are no everyday word and no key yet, with their votes."""
    prefixes: dict[str, Counter[str]] = defaultdict(Counter)
    for brand in index.brands:
        first, _, rest = match_key(brand.name).partition(" ")
        if brand.label not in _PREFIX_LABELS:
            continue
        if rest and first not in votes and len(first) >= _PREFIX_MIN_LETTERS and first.isalpha():
            prefixes[first][brand.label] += 1
    return {key: counts for key, counts in prefixes.items() if len(counts) == 1 and _zipf(key) < _RARE_ZIPF}


def load_pass_phrases(path: Path = DATA_DIR / "pass_phrases.txt") -> frozenset[str]:
    """Payment-method phrases the gazetteer steps over ("apple pay"), already in ``match_key`` form."""
    lines = path.read_text(encoding="utf-8").splitlines()
    phrases = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    bad = [phrase for phrase in phrases if match_key(phrase) != phrase]
    if bad:
        raise ValueError(f"{path}: not in match_key form: {bad}")
    return frozenset(phrases)


def _load_gazetteer_keys(path: Path = DATA_DIR / "gazetteer_keys.tsv") -> dict[str, str]:
    """Reviewed labels for keys the vote leaves ambiguous (``gazetteer_keys.tsv``)."""
    keys: dict[str, str] = {}
    for number, row in _tsv_rows(path, ("key", "label", "note")):
        label = _label_or_none(path, number, row["label"])
        if label is None or row["key"] in keys or match_key(row["key"]) != row["key"]:
            raise ValueError(f"{path}:{number}: a reviewed key needs one label, match-key form, once")
        keys[row["key"]] = label
    return keys


#: Words of a bank narration itself ("cash withdrawal", "card charge"): a key of stop words holding one is
#: never kept, however many words it has, nor a category word's key (``training.data.category_hints``).
NARRATION_WORDS = frozenset(
    ("bank", "card", "cards", "cash", "charge", "fee", "fees", "loan", "money", "pay", "payment", "transfer")
)


def _own_long_name(key: str, named_keys: Collection[str]) -> bool:
    """A key of two or more stop words kept all the same: some brand's whole name ("new world", "the
    warehouse", "sports direct", "post office"), with no narration word in it. One such word alone says
    nothing; a brand's whole name of several says the brand."""
    words = key.split(" ")
    return len(words) >= 2 and key in named_keys and not NARRATION_WORDS.intersection(words)


def _build_gazetteer(
    index: BrandIndex, exclude_words: frozenset[str] | None, hand_kept: Iterable[tuple[str, str]] = ()
) -> tuple[dict[str, str], GazetteerStats]:
    excluded_words = (load_exclude_words() if exclude_words is None else exclude_words) | _generic_names(
        index
    )
    entries: dict[str, str] = {}
    ambiguous = too_short = too_long = excluded = common = 0
    votes = _votes(index, hand_kept)
    named_keys = {match_key(brand.name) for brand in index.brands} | {match_key(n) for n, _ in hand_kept}
    votes.update(_prefix_votes(index, votes))
    reviewed = _load_gazetteer_keys()
    kept_common = load_common_word_brands()
    for key in sorted(votes):
        words = key.split(" ")
        if len(key.replace(" ", "")) < 3 or key.replace(" ", "").isdigit():
            too_short += 1
        elif len(words) > MAX_KEY_WORDS:
            too_long += 1
        elif all(word in excluded_words for word in words) and not _own_long_name(key, named_keys):
            excluded += 1
        elif len(words) == 1 and key not in kept_common and _zipf(key) >= _COMMON_ZIPF:
            common += 1
        elif key in reviewed:  # a reviewed decision wins over the vote ("walmart supercenter")
            entries[key] = reviewed[key]
        else:
            label, count = votes[key].most_common(1)[0]
            if count >= _MAJORITY * sum(votes[key].values()):
                entries[key] = label
            else:
                ambiguous += 1
    entries.update(dict.fromkeys(load_pass_phrases(), PASS))
    return entries, GazetteerStats(len(votes), ambiguous, too_short, too_long, excluded, common)


def gazetteer_entries(
    index: BrandIndex,
    *,
    exclude_words: frozenset[str] | None = None,
    hand_kept: Iterable[tuple[str, str]] = (),
) -> dict[str, str]:
    """``match_key -> label`` for every brand name and match name, and for every ``hand_kept`` (name,
    label) pair (the catalogue's own lists of businesses no shop index holds: streaming, airlines, tax
    offices, ...; they vote as brand names), keys sorted, without:

    - keys of fewer than 3 letters or digits, all-digit keys and keys over ``MAX_KEY_WORDS`` words;
    - keys made only of stop words: ``exclude_words`` (default ``exclude_words.txt``) plus the single
      words that name brands under 3 or more labels in ``index``;
    - one-word keys that are everyday words of our languages (wordfreq Zipf >= 4.5: "una", "team",
      "lucky"), unless ``common_word_brands.txt`` keeps them by review ("next", "three", "costa");
    plus, as keys, the first words of multi-word brand names that are no word at all ("bunnings");
    - ambiguous keys: brands of different labels share the key and no label has 2/3 of them (a key that
      is a brand's own name counts only brands so named, see :func:`_votes`);
    and ``gazetteer_keys.tsv`` settles a key by review whatever its vote (walmart, walmart supercenter,
    target, coles, lowes, ...); the payment-method phrases of ``pass_phrases.txt`` ("apple pay") are
    entries labelled ``PASS``, which the lookup steps over.
    """
    return _build_gazetteer(index, exclude_words, hand_kept)[0]


# --- MCC words ------------------------------------------------------------------------------------------


def _mcc_rows(path: Path = DATA_DIR / "mcc_labels.tsv") -> Iterator[tuple[list[str], str | None, list[str]]]:
    """(codes, label, words) per row; every code is checked against iso18245 (``[train]`` extra)."""
    import iso18245

    for number, row in _tsv_rows(path, ("mcc", "label", "words", "note")):
        start, _, end = row["mcc"].partition("-")
        if end:
            codes = [mcc.mcc for mcc in iso18245.get_all_mccs_in_range(start, end)]
        else:
            try:
                codes = [iso18245.get_mcc(start).mcc]
            except iso18245.MCCNotFound:
                codes = []
        if not codes:
            raise ValueError(f"{path}:{number}: {row['mcc']!r} names no ISO 18245 code")
        words = [word.strip() for word in row["words"].split(",") if word.strip()]
        if any(word != word.upper() for word in words):
            raise ValueError(f"{path}:{number}: category words must be upper-case: {words}")
        yield codes, _label_or_none(path, number, row["label"]), words


def mcc_labels() -> dict[str, str]:
    """MCC -> label for every mapped code in ``mcc_labels.tsv``; raises ``ValueError`` on a code twice."""
    labels: dict[str, str] = {}
    seen: set[str] = set()
    for codes, label, _ in _mcc_rows():
        for code in codes:
            if code in seen:
                raise ValueError(f"mcc_labels.tsv: MCC {code} is listed twice")
            seen.add(code)
            if label is not None:
                labels[code] = label
    return labels


def mcc_category_words() -> dict[str, tuple[str, ...]]:
    """Label -> its distinct category words ("BAKERY", "DENTAL", ...), in file order, for composed names."""
    words: dict[str, dict[str, None]] = {}
    for _, label, row_words in _mcc_rows():
        if label is not None:
            words.setdefault(label, {}).update(dict.fromkeys(row_words))
    return {label: tuple(words[label]) for label in LABELS if words.get(label)}


# --- command line -------------------------------------------------------------------------------------


def _print_counts(title: str, counts: Mapping[str, int], limit: int | None = None) -> None:
    print(f"{title}:")
    for name, count in sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:limit]:
        print(f"  {name:<34} {count:>7,}")


def _report(index: BrandIndex, *, full: bool) -> None:
    import random

    print(f"name-suggestion-index {index.version}: {len(index.brands):,} brands in our countries")
    _print_counts("brands per label", Counter(brand.label for brand in index.brands))
    if not full:
        return
    worldwide = sum(WORLD in brand.countries for brand in index.brands)
    named = Counter(country for brand in index.brands for country in brand.countries if country != WORLD)
    print(f"brands per country (named for the country / with the {worldwide:,} worldwide brands):")
    for country in sorted(COUNTRIES, key=lambda code: (-named[code], code)):
        print(f"  {country:<34} {named[country]:>7,} {named[country] + worldwide:>7,}")
    print(f"brands under mapped tags but in none of our countries: {index.outside_countries:,}")
    _print_counts("unmapped items per tag (top 25)", index.unmapped_tags, 25)
    print(f"unmapped items: {sum(index.unmapped_tags.values()):,} over {len(index.unmapped_tags)} tags")
    _print_counts("unresolved location codes", index.unknown_locations, 10)
    pairs = Counter(" / ".join(sorted({label for _, label in row.tags})) for row in index.disagreements)
    print(f"label disagreements resolved: {len(index.disagreements):,}")
    _print_counts("disagreeing label sets (top 15)", pairs, 15)
    entries, stats = _build_gazetteer(index, None)
    print(
        f"gazetteer: {len(entries):,} entries from {stats.candidates:,} keys "
        f"(dropped: {stats.ambiguous:,} ambiguous, {stats.too_short:,} short or numeric, "
        f"{stats.too_long:,} too long, {stats.excluded:,} stop words)"
    )
    for key in sorted(random.Random(18245).sample(sorted(entries), min(20, len(entries)))):
        print(f"  {key:<40} {entries[key]}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.data.brands", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser("fetch", help="fetch the pinned index and print brand counts")
    report = commands.add_parser("report", help="coverage per label, country, tag and the gazetteer")
    for command in (fetch, report):
        command.add_argument("--cache-dir", type=Path, default=Path("artifacts/brands"))
    report.add_argument("--index", type=Path, help="an nsi.json to report on instead of the fetched one")
    args = parser.parse_args(argv)
    try:
        path = args.index if getattr(args, "index", None) else fetch_brand_index(args.cache_dir)
        print(path)
        _report(load_brand_index(path), full=args.command == "report")
    except BrandIndexError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

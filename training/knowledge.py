"""Brand knowledge for one build: the brand index (name-suggestion-index), the generator catalogue drawn
from it, and the gazetteer that ships in the bundle. Built once per build from the config's ``data``
section."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from service.gazetteer import PASS, Gazetteer
from training.config import DataConfig

if TYPE_CHECKING:
    from training.data.catalogue import Catalogue

__all__ = ["Knowledge", "load_knowledge"]


@dataclass(frozen=True)
class Knowledge:
    """What the build knows of merchants: the catalogue the generator samples and the optional gazetteer."""

    catalogue: Catalogue
    gazetteer: Gazetteer | None
    #: e.g. "name-suggestion-index 8.0.20260918 (14,812 brands)" or "hand-kept lists".
    source: str
    brands: int


def _index_path(data: DataConfig, work_dir: Path) -> Path | None:
    from training.data.brands import fetch_brand_index

    spec = data.brand_index
    if spec is None:
        return None
    if spec == "nsi":
        return fetch_brand_index(work_dir / "brands")
    path = Path(spec)
    if not path.is_file():
        raise FileNotFoundError(f"data.brand_index: {path} not found")
    return path


_Words = dict[str, dict[str, tuple[str, ...]]]


def _preset_words(data: DataConfig, work_dir: Path) -> _Words | None:
    """``language -> label -> category words`` of the presets (None: no ``category_words``)."""
    from training.data.presets import fetch_presets, load_category_words

    spec = data.category_words
    if spec is None:
        return None
    if spec == "presets":
        directory = fetch_presets(work_dir / "presets")
    else:
        directory = Path(spec)
        if not (directory / "presets.json").is_file():
            raise FileNotFoundError(f"data.category_words: {directory}/presets.json not found")
    return load_category_words(directory)


def _local_words(by_language: _Words | None) -> _Words | None:
    """``country -> label -> category words`` in the country's languages."""
    from training.data.presets import load_country_languages

    if by_language is None:
        return None
    words: _Words = {}
    for country, languages in load_country_languages().items():
        per_label: dict[str, dict[str, None]] = {}
        for language in languages:
            for label, label_words in by_language.get(language, {}).items():
                per_label.setdefault(label, {}).update(dict.fromkeys(label_words))
        words[country] = {label: tuple(ws) for label, ws in per_label.items()}
    return words


def _category_entries(preset_words: _Words | None) -> dict[str, str]:
    """The category words' gazetteer entries: hand-kept and MCC words, and the presets' in every language."""
    from training.data import vocabulary
    from training.data.brands import COUNTRIES, mcc_category_words
    from training.data.category_hints import category_entries

    own: dict[str, list[str]] = {}
    for words in (vocabulary.composition().category_words, mcc_category_words()):
        for label, label_words in words.items():
            own.setdefault(label, []).extend(label_words)
    names = [
        name
        for country in COUNTRIES
        for words in [vocabulary.country_words(country)]
        for name in (*words.first_names, *words.last_names, *words.cities)
    ]
    return category_entries(own, (preset_words or {}).values(), name_words=names)


def load_knowledge(data: DataConfig, work_dir: Path) -> Knowledge:
    """The catalogue (index brands + hand-kept lists) and, with ``data.gazetteer``, the bundle's gazetteer
    (with ``data.category_hints`` also the category words, a brand key winning over a category word of
    the same spelling); the pinned index and presets are fetched under ``work_dir``."""
    from training.data.brands import gazetteer_entries, load_brand_index, mcc_category_words
    from training.data.catalogue import build_catalogue, gazetteer_names

    path = _index_path(data, work_dir)
    preset_words = _preset_words(data, work_dir)
    local_words = _local_words(preset_words)
    if path is None:
        return Knowledge(build_catalogue(None, local_words=local_words), None, "hand-kept lists", 0)
    index = load_brand_index(path)
    source = f"name-suggestion-index {index.version}"
    gazetteer = None
    brands: dict[str, str] = {}
    if data.gazetteer:
        brands = gazetteer_entries(index, hand_kept=gazetteer_names())
        entries = brands
        if data.category_hints:
            entries = {**_category_entries(preset_words), **brands}
            source += " + category words"
        gazetteer = Gazetteer(dict(sorted(entries.items())), source, matching=data.gazetteer_matching)
    # Brand names of one or two words also name other labels' local businesses ("LUCKY TAXI"); the
    # category words are what such names are made of, not decoys.
    decoys = {key: label for key, label in brands.items() if key.count(" ") < 2 and label != PASS}
    catalogue = build_catalogue(
        index.brands,
        category_words=mcc_category_words(),
        local_words=local_words,
        decoys=decoys,
    )
    return Knowledge(catalogue, gazetteer, source, len(index.brands))

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


def _local_words(data: DataConfig, work_dir: Path) -> dict[str, dict[str, tuple[str, ...]]] | None:
    """``country -> label -> category words`` in the country's languages (None: no ``category_words``)."""
    from training.data.presets import fetch_presets, load_category_words, load_country_languages

    spec = data.category_words
    if spec is None:
        return None
    if spec == "presets":
        directory = fetch_presets(work_dir / "presets")
    else:
        directory = Path(spec)
        if not (directory / "presets.json").is_file():
            raise FileNotFoundError(f"data.category_words: {directory}/presets.json not found")
    by_language = load_category_words(directory)
    words: dict[str, dict[str, tuple[str, ...]]] = {}
    for country, languages in load_country_languages().items():
        per_label: dict[str, dict[str, None]] = {}
        for language in languages:
            for label, label_words in by_language.get(language, {}).items():
                per_label.setdefault(label, {}).update(dict.fromkeys(label_words))
        words[country] = {label: tuple(ws) for label, ws in per_label.items()}
    return words


def load_knowledge(data: DataConfig, work_dir: Path) -> Knowledge:
    """The catalogue (index brands + hand-kept lists) and, with ``data.gazetteer``, the bundle's gazetteer;
    the pinned index and presets are fetched under ``work_dir``."""
    from training.data.brands import gazetteer_entries, load_brand_index, mcc_category_words
    from training.data.catalogue import build_catalogue, gazetteer_names

    path = _index_path(data, work_dir)
    local_words = _local_words(data, work_dir)
    if path is None:
        return Knowledge(build_catalogue(None, local_words=local_words), None, "hand-kept lists", 0)
    index = load_brand_index(path)
    source = f"name-suggestion-index {index.version}"
    gazetteer = (
        Gazetteer(gazetteer_entries(index, hand_kept=gazetteer_names()), source) if data.gazetteer else None
    )
    # Brand names of one or two words also name other labels' local businesses ("LUCKY TAXI").
    decoys = {key: label for key, label in (gazetteer or {}).items() if key.count(" ") < 2 and label != PASS}
    catalogue = build_catalogue(
        index.brands,
        category_words=mcc_category_words(),
        local_words=local_words,
        decoys=decoys,
    )
    return Knowledge(catalogue, gazetteer, source, len(index.brands))

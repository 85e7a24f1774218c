"""The iD tagging schema loader: category words per language through the reviewed OSM tag table."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from training.data import presets
from training.data.brands import BrandIndexError
from training.data.presets import load_category_words, load_country_languages

FIXTURE = Path(__file__).parents[1] / "fixtures" / "presets-mini"


def test_words_per_language_through_the_tag_table() -> None:
    words = load_category_words(FIXTURE)
    assert set(words) == {"en", "es", "de"}
    assert "BAKERY" in words["en"]["FOOD_AND_DRINK"]
    assert "PANADERÍA" in words["es"]["FOOD_AND_DRINK"]
    assert any("APOTHEKE" in word for word in words["de"]["MEDICAL"])
    assert "HAIRDRESSER" in words["en"]["PERSONAL_CARE"]
    # Aliases count ("Car Mechanic"), and "A / B" names give two words.
    assert "CAR MECHANIC" in words["en"]["GENERAL_SERVICES"]
    assert all(" / " not in word for per_label in words.values() for ws in per_label.values() for word in ws)


def test_infrastructure_and_unmapped_presets_give_no_words() -> None:
    words = load_category_words(FIXTURE)
    everything = {word for per_label in words.values() for ws in per_label.values() for word in ws}
    assert "POWER LINE" not in everything  # power=line: not a place that takes payments
    assert not any("BENCH" in word for word in everything)  # amenity=bench: no label


def test_every_country_has_languages() -> None:
    languages = load_country_languages()
    assert languages["CA"] == ("en", "en-CA", "fr")
    assert languages["BR"] == ("pt-BR",)
    assert len(languages) == 20


def test_bad_languages_table(tmp_path: Path) -> None:
    path = tmp_path / "languages.tsv"
    path.write_text("country\tlanguages\tnote\nUS\ten\t\nUS\ten\t\n", encoding="utf-8")
    with pytest.raises(ValueError, match="one row per country"):
        load_country_languages(path)


def test_fetch_uses_a_complete_cache_without_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(presets, "_languages", lambda: ["en"])
    target = tmp_path / f"id-tagging-schema-{presets.PRESETS_VERSION}"
    (target / "translations").mkdir(parents=True)
    shutil.copy(FIXTURE / "presets.json", target / "presets.json")
    shutil.copy(FIXTURE / "translations" / "en.json", target / "translations" / "en.json")
    from service.bundle import file_sha256

    sums = [f"{file_sha256(target / name)}  {name}" for name in ("presets.json", "translations/en.json")]
    (target / "SHA256SUMS").write_text("\n".join(sums) + "\n", encoding="utf-8")
    assert presets.fetch_presets(tmp_path, npm="no-such-npm") == target
    # A changed file breaks the manifest: the fetch goes to npm, which is missing here.
    data = json.loads((target / "presets.json").read_text(encoding="utf-8"))
    (target / "presets.json").write_text(json.dumps({**data, "x": {}}), encoding="utf-8")
    with pytest.raises(BrandIndexError, match="no-such-npm not found"):
        presets.fetch_presets(tmp_path, npm="no-such-npm")

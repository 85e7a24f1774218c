"""Bundles derived from the tiny one: the same model with a gazetteer and direction inputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from service.bundle import CARD_FILE, GAZETTEER_FILE, BundleInputs, GazetteerInfo
from service.gazetteer import Gazetteer

#: The gazetteer of ``hinted_bundle``: brands whose hint the tests look for in the model's input.
HINTED_ENTRIES = {
    "tesco": "FOOD_AND_DRINK",
    "tesco express": "GENERAL_MERCHANDISE",
    "shell": "TRANSPORTATION",
    "boots": "MEDICAL",
}


def edit_card(bundle: Path, **changes: Any) -> None:
    card_path = bundle / CARD_FILE
    card = json.loads(card_path.read_text())
    card.update(changes)
    card_path.write_text(json.dumps(card))


def add_gazetteer(bundle: Path, gazetteer: Gazetteer, *, direction: bool) -> None:
    """Ship ``gazetteer`` in ``bundle`` (a txc-norm-2 copy) and say so in the card's ``inputs``."""
    gazetteer.write(bundle / GAZETTEER_FILE)
    edit_card(
        bundle,
        normalization="txc-norm-2",
        inputs={
            "direction": direction,
            "gazetteer": BundleInputs(gazetteer=GazetteerInfo.of(gazetteer)).as_card()["gazetteer"],
        },
    )


@pytest.fixture(scope="session")
def hinted_bundle(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model as a txc-norm-2 bundle that reads directions and ships a 4-brand gazetteer."""
    bundle = Path(shutil.copytree(tiny_bundle, tmp_path_factory.mktemp("hinted") / "bundle"))
    add_gazetteer(bundle, Gazetteer(HINTED_ENTRIES, "tests 1"), direction=True)
    return bundle

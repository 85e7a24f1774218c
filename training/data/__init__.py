"""Synthetic bank-narration data: catalogue, statement formats and the seeded sampler.

The stable entry point is :func:`sample_narrations`; the load tests import it too. Pass a catalogue built
from the brand index (:func:`build_catalogue`) to draw real shops per country.
"""

from __future__ import annotations

from training.data.catalogue import COUNTRIES, SPLITS, Catalogue, Entity, build_catalogue, catalogue
from training.data.generator import (
    COUNTRY_WEIGHTS,
    GENERATOR_VERSION,
    TRAFFIC_LABEL_WEIGHTS,
    Narration,
    sample_narrations,
    sample_transfer_narrations,
)

__all__ = [
    "COUNTRIES",
    "COUNTRY_WEIGHTS",
    "GENERATOR_VERSION",
    "SPLITS",
    "TRAFFIC_LABEL_WEIGHTS",
    "Catalogue",
    "Entity",
    "Narration",
    "build_catalogue",
    "catalogue",
    "sample_narrations",
    "sample_transfer_narrations",
]

"""Synthetic bank-narration data: catalogue, templates and the seeded sampler.

The stable entry point is :func:`sample_narrations`; the load tests import it too.
"""

from __future__ import annotations

from training.data.catalogue import COUNTRIES, SPLITS, Entity, catalogue
from training.data.generator import (
    TRAFFIC_LABEL_WEIGHTS,
    Narration,
    sample_narrations,
    sample_transfer_narrations,
)

__all__ = [
    "COUNTRIES",
    "SPLITS",
    "TRAFFIC_LABEL_WEIGHTS",
    "Entity",
    "Narration",
    "catalogue",
    "sample_narrations",
    "sample_transfer_narrations",
]

"""Evaluation data written by hand, independent of the synthetic generator."""

from __future__ import annotations

from training.eval.devset import DEVSET_PATH, DevRow, DevsetError, load_devset

__all__ = ["DEVSET_PATH", "DevRow", "DevsetError", "load_devset"]

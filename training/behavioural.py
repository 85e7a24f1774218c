"""Behavioural tests: obvious must-pass cases per label and invariance groups, from a versioned YAML."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from service.normalize import normalize_text
from training.labels import LABELS, label_id

__all__ = ["CASES_PATH", "BehaviouralReport", "Cases", "load_cases", "run_behavioural"]

CASES_PATH = Path(__file__).with_name("behavioural_cases.yaml")

#: Maps normalised texts to class probabilities, shape [n, len(LABELS)].
Predict = Callable[[Sequence[str]], Any]


@dataclass(frozen=True)
class BehaviouralReport:
    version: int
    total: int
    passed: int
    failures: tuple[str, ...]

    @property
    def pass_rate(self) -> float:
        return self.passed / self.total if self.total else 1.0


@dataclass(frozen=True)
class Cases:
    """The parsed case file: must-pass ``(text, label)`` pairs and invariance ``(texts, label)`` groups."""

    version: int
    must_pass: tuple[tuple[str, str], ...]
    groups: tuple[tuple[tuple[str, ...], str], ...]


def load_cases(path: Path = CASES_PATH) -> Cases:
    spec = yaml.safe_load(path.read_text())
    must_pass = tuple((text, label) for label, texts in spec["must_pass"].items() for text in texts)
    groups = tuple((tuple(g["texts"]), g["label"]) for g in spec.get("invariances", []))
    return Cases(int(spec["version"]), must_pass, groups)


def run_behavioural(
    predict: Predict, path: Path = CASES_PATH, *, prepare: Callable[[str], str] = normalize_text
) -> BehaviouralReport:
    """Score every must-pass case and every invariance group (a group passes if all members get its label).

    ``prepare`` turns a raw case into the model input (the bundle's own preparation: normalisation and,
    for bundles with a gazetteer, its hint; cases carry no direction)."""
    spec = load_cases(path)
    cases, groups = spec.must_pass, spec.groups
    texts = [t for t, _ in cases] + [t for members, _ in groups for t in members]
    predicted = np.asarray(predict([prepare(t) for t in texts])).argmax(axis=1)
    failures: list[str] = []
    for (text, label), pred in zip(cases, predicted[: len(cases)], strict=True):
        if pred != label_id(label):
            failures.append(f"must_pass {text!r}: expected {label}, got {LABELS[pred]}")
    offset = len(cases)
    for members, label in groups:
        got = predicted[offset : offset + len(members)]
        offset += len(members)
        if any(p != label_id(label) for p in got):
            shown = ", ".join(f"{t!r}->{LABELS[p]}" for t, p in zip(members, got, strict=True))
            failures.append(f"invariance {label}: {shown}")
    total = len(cases) + len(groups)
    return BehaviouralReport(spec.version, total, total - len(failures), tuple(failures))

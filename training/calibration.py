"""Confidence that means something: temperature scaling fitted on validation, baked into the model file,
and the reliability diagram that shows how well confidence tracks accuracy.

The temperature is part of the ONNX graph (``logits / T`` as the model's output), not a serving setting:
the service's softmax, abstain threshold and cache then see calibrated numbers with no code of their own,
and a bundle cannot be served with a temperature it was not gated with.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["apply_temperature", "fit_temperature", "plot_reliability", "reliability_bins"]

#: The search range of the temperature: below 0.05 or above 20 a model's logits are broken, not miscalibrated.
_T_RANGE = (0.05, 20.0)


def negative_log_likelihood(
    logits: npt.NDArray[np.float64], labels: npt.NDArray[np.int64], temperature: float = 1.0
) -> float:
    """Mean negative log-likelihood of ``labels`` under ``softmax(logits / temperature)``."""
    scaled = logits / temperature
    scaled = scaled - scaled.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(scaled).sum(axis=1))
    return float((log_norm - scaled[np.arange(len(labels)), labels]).mean())


def fit_temperature(logits: npt.NDArray[np.float32], labels: Sequence[int]) -> float:
    """The temperature ``T`` that minimises the negative log-likelihood of ``softmax(logits / T)``.

    One scalar, so argmax (the label) never changes; only confidence moves. Raises ``ValueError`` on
    empty input.
    """
    from scipy.optimize import minimize_scalar

    if len(labels) == 0:
        raise ValueError("cannot fit a temperature on no rows")
    x = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    low, high = np.log(_T_RANGE[0]), np.log(_T_RANGE[1])
    result = minimize_scalar(
        lambda log_t: negative_log_likelihood(x, y, float(np.exp(log_t))),
        bounds=(low, high),
        method="bounded",
    )
    return float(np.exp(result.x))


def apply_temperature(model_path: Path, temperature: float) -> None:
    """Rewrite ``model_path`` so that its ``logits`` output is divided by ``temperature``.

    The original output is renamed and a ``Mul`` by ``1/T`` (float32) produces ``logits``: the graph's
    interface is unchanged, the multiplication is exact and per row (batch invariance holds).
    """
    import onnx
    from onnx import helper, numpy_helper

    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    model = onnx.load(str(model_path))
    graph = model.graph
    outputs = [o for o in graph.output if o.name == "logits"]
    if len(outputs) != 1:
        raise ValueError(f"{model_path}: expected one output named 'logits'")
    raw = "logits_before_temperature"
    for node in graph.node:
        node.output[:] = [raw if name == "logits" else name for name in node.output]
        node.input[:] = [raw if name == "logits" else name for name in node.input]
    scale = numpy_helper.from_array(np.asarray(1.0 / temperature, dtype=np.float32), "inverse_temperature")
    graph.initializer.append(scale)
    graph.node.append(helper.make_node("Mul", [raw, "inverse_temperature"], ["logits"], name="temperature"))
    onnx.save(model, str(model_path))


def reliability_bins(
    labels: Sequence[int], probs: npt.NDArray[np.float32], bins: int = 10
) -> list[dict[str, float]]:
    """Per equal-width confidence bin: count, mean confidence and accuracy (empty bins omitted)."""
    y = np.asarray(labels)
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y
    out: list[dict[str, float]] = []
    for low, high in itertools.pairwise(np.linspace(0.0, 1.0, bins + 1)):
        in_bin = (confidence > low) & (confidence <= high)
        if in_bin.any():
            out.append(
                {
                    "low": round(float(low), 3),
                    "high": round(float(high), 3),
                    "count": int(in_bin.sum()),
                    "confidence": round(float(confidence[in_bin].mean()), 4),
                    "accuracy": round(float(correct[in_bin].mean()), 4),
                }
            )
    return out


def plot_reliability(
    series: Mapping[str, tuple[Sequence[int], npt.NDArray[np.float32]]], path: Path, title: str
) -> None:
    """Reliability diagram (accuracy against confidence per bin, one line per series) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 5.5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect calibration")
    for name, (labels, probs) in series.items():
        rows = reliability_bins(labels, probs)
        ax.plot(
            [r["confidence"] for r in rows],
            [r["accuracy"] for r in rows],
            marker="o",
            label=f"{name} (n={len(labels)})",
        )
    ax.set_xlabel("mean confidence in bin")
    ax.set_ylabel("accuracy in bin")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)

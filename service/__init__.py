"""txclassify serving package: ``from service import Classifier`` for in-process use (no HTTP).

The HTTP adapter lives in ``service.api`` and is only imported by whoever serves over HTTP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from service.classifier import Classifier, LabelScore, Prediction

__all__ = ["Classifier", "LabelScore", "Prediction"]


def __getattr__(name: str) -> Any:
    # Lazy, so that ``import service.normalize`` (the training pipeline's import) loads nothing else.
    if name in __all__:
        from service import classifier

        return getattr(classifier, name)
    raise AttributeError(f"module 'service' has no attribute {name!r}")

"""The bundle's lexical model: character n-grams + a linear layer, served with numpy, mixed with the student.

Why a second model. On the hand-written dev set a TF-IDF character-n-gram classifier fitted on the same
generated rows scored 0.823 where the distilled student scored 0.774 (generator v9, 2026-12-02;
docs/model.md): n-grams of lower-cased, truncated or foreign words carry over from generated to real
narrations better than the student's word pieces do. The two are wrong on different rows, so the bundle
can ship both and mix their log-probabilities row by row (:func:`mix`), with weights fitted on the
validation split at build time.

What is here is the serving half of scikit-learn's ``TfidfVectorizer(analyzer="char_wb",
sublinear_tf=True)`` followed by a multinomial logistic regression, reimplemented so that serving needs
only numpy (``training/lexical.py`` fits it with scikit-learn and writes ``lexical.npz``; a test holds
the two to the same features). Hand-written for that reason only: scikit-learn is a training dependency,
not a serving one, and ONNX has no char_wb analyser. Each text's scores depend only on that text.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from service.errors import BundleError

__all__ = ["LexicalModel", "char_wb_ngrams", "log_softmax", "mix"]

_WHITESPACES = re.compile(r"\s\s+")


def char_wb_ngrams(text: str, min_n: int, max_n: int) -> list[str]:
    """scikit-learn's ``char_wb`` analyser after lower-casing: n-grams inside words padded with a space."""
    text = _WHITESPACES.sub(" ", text.lower())
    grams: list[str] = []
    for word in text.split():
        padded = f" {word} "
        length = len(padded)
        for n in range(min_n, max_n + 1):
            offset = 0
            grams.append(padded[offset : offset + n])
            while offset + n < length:
                offset += 1
                grams.append(padded[offset : offset + n])
            if offset == 0:  # a word shorter than n counts once
                break
    return grams


def log_softmax(logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Row-wise log-softmax in float32."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    result: npt.NDArray[np.float32] = (shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))).astype(
        np.float32
    )
    return result


def mix(
    student_logits: npt.NDArray[np.float32],
    lexical_logits: npt.NDArray[np.float32],
    student_weight: float,
    lexical_weight: float,
) -> npt.NDArray[np.float32]:
    """The bundle's output logits: ``a * log p_student + b * log p_lexical`` (row by row). Their softmax is
    the served probability; ``a + b`` also acts as the temperature, fitted with them on validation."""
    mixed: npt.NDArray[np.float32] = (
        np.float32(student_weight) * log_softmax(student_logits)
        + np.float32(lexical_weight) * log_softmax(lexical_logits)
    ).astype(np.float32)
    return mixed


@dataclass(frozen=True)
class LexicalModel:
    """Vocabulary (n-gram -> column), idf, and the linear layer: ``coef`` [features, labels] and
    ``intercept``; ``student_weight``/``lexical_weight`` are the weights of :func:`mix`."""

    vocabulary: dict[str, int]
    idf: npt.NDArray[np.float32]
    coef: npt.NDArray[np.float32]
    intercept: npt.NDArray[np.float32]
    min_n: int
    max_n: int
    student_weight: float
    lexical_weight: float

    @property
    def num_labels(self) -> int:
        return int(self.coef.shape[1])

    def logits(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Linear scores ``[len(texts), labels]``; a text with no known n-gram scores the intercept."""
        out = np.empty((len(texts), self.num_labels), dtype=np.float32)
        vocabulary = self.vocabulary
        for row, text in enumerate(texts):
            counts = Counter(char_wb_ngrams(text, self.min_n, self.max_n))
            known = [(vocabulary[g], count) for g, count in counts.items() if g in vocabulary]
            if not known:
                out[row] = self.intercept
                continue
            index = np.fromiter((column for column, _ in known), dtype=np.int64, count=len(known))
            tf = np.fromiter(
                (1.0 + math.log(count) for _, count in known), dtype=np.float32, count=len(known)
            )
            weights = tf * self.idf[index]
            weights /= np.float32(np.sqrt(np.dot(weights, weights)))
            out[row] = weights @ self.coef[index] + self.intercept
        return out

    def mix(self, student_logits: npt.NDArray[np.float32], texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """The bundle's output logits for ``texts`` given the student's logits for them."""
        return mix(student_logits, self.logits(texts), self.student_weight, self.lexical_weight)

    def save(self, path: Path) -> None:
        """Write the bundle's ``lexical.npz`` (n-grams in column order, joined by NUL; float16 idf and
        coefficients; the file is read back by ``load``, so what is served is what was gated)."""
        grams = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        np.savez_compressed(
            path,
            grams=np.frombuffer("\x00".join(grams).encode("utf-8"), dtype=np.uint8),
            idf=self.idf.astype(np.float16),
            coef=self.coef.astype(np.float16),
            intercept=self.intercept.astype(np.float32),
            params=np.asarray([self.min_n, self.max_n], dtype=np.int64),
            weights=np.asarray([self.student_weight, self.lexical_weight], dtype=np.float64),
        )

    @classmethod
    def load(cls, path: Path, num_labels: int) -> LexicalModel:
        """Read ``lexical.npz``; ``BundleError`` (one line) if it is unreadable or does not fit the labels."""
        try:
            with np.load(path, allow_pickle=False) as data:
                grams = bytes(data["grams"]).decode("utf-8").split("\x00") if data["grams"].size else []
                idf = data["idf"].astype(np.float32)
                coef = data["coef"].astype(np.float32)
                intercept = data["intercept"].astype(np.float32)
                min_n, max_n = (int(v) for v in data["params"])
                student_weight, lexical_weight = (float(v) for v in data["weights"])
        except (OSError, KeyError, ValueError, UnicodeDecodeError) as error:
            raise BundleError(f"{path}: not a readable lexical model ({error})") from error
        if (
            coef.shape != (len(grams), num_labels)
            or idf.shape != (len(grams),)
            or intercept.shape != (num_labels,)
        ):
            raise BundleError(
                f"{path}: shapes do not fit {len(grams)} n-grams and {num_labels} labels "
                f"(coef {coef.shape}, idf {idf.shape}, intercept {intercept.shape})"
            )
        if not 1 <= min_n <= max_n:
            raise BundleError(f"{path}: bad n-gram range {min_n}-{max_n}")
        return cls(
            {gram: i for i, gram in enumerate(grams)},
            idf,
            coef,
            intercept,
            min_n,
            max_n,
            student_weight,
            lexical_weight,
        )

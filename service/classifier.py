"""The in-process classifier: one bundle, one tokenizer, one ONNX session, one cache, one batcher.

``Classifier.load(path)`` verifies the bundle and loads it once. ``classify(texts)`` scores synchronously
(CLI, bulk files, notebooks); ``await aclassify(texts)`` goes through the dynamic batcher, so concurrent
callers share model batches. Both give the same numbers for the same text: every batch is padded to its own
longest item and each text is scored independently of its neighbours. What the model reads is
``service.normalize.model_input`` of the text, its direction (if the bundle reads directions) and the
bundle gazetteer's brand hint (if it has one); that string is also the cache key. A bundle with a lexical
model (``service/lexical.py``) mixes its scores of that same string with the ONNX model's logits, row by
row, in the same worker thread.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from service.batching import Batcher, BatcherConfig, BatchObserver, TimedResults, WorkItem
from service.bundle import ModelBundle, default_model_dir
from service.cache import ResultCache
from service.engine import OnnxEngine, softmax
from service.errors import BundleError, ErrorDetail, InvalidInputError
from service.normalize import DIRECTIONS, model_input, normalize_text
from service.scheduling import plan_batches
from service.settings import Settings
from service.tokenization import TextTokenizer, TokenIds

__all__ = ["Classification", "Classifier", "ClassifierObserver", "LabelScore", "Prediction"]

Probabilities = npt.NDArray[np.float32]
#: What one batched item carries to the worker: its token ids and its model input (for the lexical model).
ModelRow = tuple[TokenIds, str]
_T = TypeVar("_T")

#: Requests of at most this many texts are normalised and tokenised on the event loop (tens of
#: microseconds): handing them to a thread and back costs more than the work.
INLINE_PREPARE_TEXTS = 32


class ClassifierObserver(BatchObserver, Protocol):
    def cache_hits(self, count: int) -> None: ...


@dataclass(frozen=True)
class LabelScore:
    label: str
    confidence: float


@dataclass(frozen=True)
class Prediction:
    """The answer for one text: the top label (given even when ``abstained``) and all probabilities."""

    label: str
    confidence: float
    abstained: bool
    probabilities: Probabilities = field(repr=False, compare=False)
    labels: tuple[str, ...] = field(repr=False, compare=False)

    def top(self, k: int) -> list[LabelScore]:
        """The ``k`` most likely labels, most likely first (ties keep label order)."""
        if k == 1:
            return [LabelScore(self.label, self.confidence)]
        order = np.argsort(-self.probabilities, kind="stable")[:k]
        return [LabelScore(self.labels[i], float(self.probabilities[i])) for i in order]


@dataclass(frozen=True)
class Classification:
    """Predictions in input order, with where the time went."""

    predictions: list[Prediction]
    queue_seconds: float
    inference_seconds: float
    cache_hits: int


class Classifier:
    """Load with ``Classifier.load``; the async side starts lazily inside the running event loop."""

    def __init__(
        self,
        bundle: ModelBundle,
        tokenizer: TextTokenizer,
        engine: OnnxEngine,
        settings: Settings | None = None,
        *,
        observer: ClassifierObserver | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bundle = bundle
        self.settings = settings or Settings.defaults()
        self._tokenizer = tokenizer
        self._engine = engine
        self._cache: ResultCache[Probabilities] = ResultCache(self.settings.cache_size)
        self._cache_lock = threading.Lock()
        self._observer = observer
        self._clock = clock
        self._executor: ThreadPoolExecutor | None = None
        # Large requests are prepared (normalised, looked up, tokenised) and finished (predictions, cache)
        # here, one at a time, off the event loop: four statements arriving together then add one busy
        # thread, not four, beside the model's on 2 cores. Small requests' p99 beside 4 x 5,000 about
        # halved (docs/batching.md); the GIL alone was not the cause (a tokenising thread left the
        # loop's longest gap at 3 ms).
        self._preparer: ThreadPoolExecutor | None = None
        self._batcher: Batcher[ModelRow, Probabilities] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def load(cls, path: Path | str | None = None, settings: Settings | None = None) -> Classifier:
        """Verify and load a bundle (default: ``settings.model_dir``, else ``default_model_dir()``).
        Without ``settings`` the defaults apply (``Settings.defaults()``: no ``TXC_*`` variable is read;
        build ``Settings()`` at your edge to configure from the environment).

        Raises ``BundleError`` with one line naming the file and the problem.
        """
        settings = settings or Settings.defaults()
        directory = Path(path) if path is not None else settings.model_dir or default_model_dir()
        # One ONNX Runtime session per start: the serving one is also the one the bundle checks.
        bundle = ModelBundle.load(directory, open_model=False)
        tokenizer = TextTokenizer.from_file(bundle.tokenizer_path, bundle.max_seq_len)
        engine = OnnxEngine.from_file(
            bundle.model_path,
            pad_token_id=bundle.pad_token_id,
            num_labels=len(bundle.labels),
            intra_op_threads=settings.intra_op_threads,
        )
        bundle.check_session(engine.session)
        return cls(bundle, tokenizer, engine, settings)

    # -- state -----------------------------------------------------------------------------------------

    @property
    def batcher(self) -> Batcher[ModelRow, Probabilities] | None:
        return self._batcher

    def set_observer(self, observer: ClassifierObserver) -> None:
        """Attach metrics; only before the async side starts."""
        if self._batcher is not None:
            raise RuntimeError("set the observer before the batcher starts")
        self._observer = observer

    def warm_up(self) -> None:
        """Run the model once on a short and a full-length text (first calls allocate and are slow), and
        once on the tokenizer's largest token id: a tokenizer whose vocabulary the model does not cover
        (one from another model) then fails here, at start-up, not on the first narration that uses it.

        Raises ``BundleError`` (one line naming the file) if the model cannot run.
        """
        texts = ["warm up", "warm up " * self.bundle.max_seq_len]
        try:
            self._engine.run(self._tokenizer.encode(texts))
        except Exception as error:
            raise BundleError(
                f"{self.bundle.model_path}: the warm-up batch failed ({_one_line(error)})"
            ) from error
        top = self._tokenizer.max_token_id
        try:
            self._engine.run([np.asarray([top, top], dtype=np.int64)])
        except Exception as error:
            raise BundleError(
                f"{self.bundle.tokenizer_path}: token id {top} is outside what {self.bundle.model_path.name} "
                f"accepts; the tokenizer belongs to another model ({_one_line(error)})"
            ) from error

    # -- synchronous -------------------------------------------------------------------------------------

    def classify(
        self, texts: Sequence[str], *, directions: Sequence[str | None] | None = None
    ) -> list[Prediction]:
        """Score ``texts`` now, in this thread, in token-budgeted batches. One prediction per text.

        ``directions`` (one per text, ``"debit"``, ``"credit"`` or ``None``) reaches the model only if the
        bundle was trained with it (``bundle.inputs.direction``); it is validated either way. Raises
        ``InvalidInputError`` naming each empty text (``("texts", i)``) and each bad direction
        (``("directions", i)``).
        """
        keys = self._model_inputs(texts, directions)
        rows, missing = self._lookup(keys)
        unique = list(dict.fromkeys(keys[i] for i in missing))
        if unique:
            ids = self._tokenizer.encode(unique)
            scored: dict[str, Probabilities] = {}
            chunks = self._chunks(ids)

            def score(chunk: list[int]) -> Probabilities:
                return self._score([ids[i] for i in chunk], [unique[i] for i in chunk])

            for chunk, probabilities in zip(chunks, self._across_lanes(score, chunks), strict=True):
                for row, i in enumerate(chunk):
                    scored[unique[i]] = probabilities[row]
            self._store(scored)
            for i in missing:
                rows[i] = scored[keys[i]]
        return [self._prediction(rows[i]) for i in range(len(keys))]

    def _across_lanes(
        self, score: Callable[[list[int]], Probabilities], chunks: list[list[int]]
    ) -> Iterable[Probabilities]:
        """``score`` of each chunk, in order: in this thread for one chunk or one lane, else on
        ``settings.lanes`` threads at once (the one session runs them side by side, as the batcher's
        lanes do). A pool per call costs well under a millisecond beside two or more batches."""
        lanes = min(self.settings.lanes, len(chunks))
        if lanes <= 1:
            return map(score, chunks)
        with ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="txc-classify") as pool:
            return list(pool.map(score, chunks))

    def _chunks(self, ids: list[TokenIds]) -> list[list[int]]:
        """Indices grouped by similar length within the batch budget (``plan_batches``, scheduling.py)."""
        return plan_batches(
            [len(row) for row in ids],
            max_batch_tokens=self.settings.max_batch_tokens,
            max_batch_size=self.settings.max_batch_size,
        )

    # -- asynchronous ------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the batcher in the running loop (idempotent). A classifier serves one event loop."""
        if self._batcher is not None:
            if self._loop is not asyncio.get_running_loop():
                raise RuntimeError("this Classifier's batcher runs on another event loop; load one per loop")
            return
        self._loop = asyncio.get_running_loop()
        settings = self.settings
        lanes = settings.lanes  # derived from the cores unless set: read once, for the pool and the batcher
        # One worker thread per engine lane: ONNX Runtime runs one session from several threads at once.
        self._executor = ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="txc-inference")
        self._preparer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="txc-prepare")
        self._batcher = Batcher(
            self._run_batch,
            BatcherConfig(
                max_batch_tokens=settings.max_batch_tokens,
                max_batch_size=settings.max_batch_size,
                max_wait_s=settings.max_wait_s,
                max_queue_items=settings.max_queue_items,
                bucket_width=settings.length_bucket_width,
                fair_quantum_tokens=settings.fair_quantum_tokens,
                latency_budget_s=settings.latency_budget_s,
                interactive_max_items=settings.interactive_max_items,
                latency_window_s=settings.latency_window_s,
                deadline_admission=settings.deadline_admission,
                lanes=lanes,
            ),
            observer=self._observer,
            clock=self._clock,
        )
        self._batcher.start()

    async def drain(self) -> None:
        """Finish admitted work, refuse new work, stop the batcher and its worker thread."""
        if self._batcher is not None:
            await self._batcher.drain()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        if self._preparer is not None:
            self._preparer.shutdown(wait=True)

    async def aclassify(
        self,
        texts: Sequence[str],
        *,
        directions: Sequence[str | None] | None = None,
        client_id: str | None = None,
        interactive: bool | None = None,
    ) -> list[Prediction]:
        """Score ``texts`` through the dynamic batcher, sharing batches with concurrent callers.

        ``directions`` as for ``classify``; the same text and direction always get the same answer.
        ``interactive`` marks the call latency-sensitive (True) or bulk (False); None decides by size
        (``Settings.interactive_max_items``). It changes when the texts are scored, never the scores.
        """
        outcome = await self.aclassify_with_timings(
            texts, directions=directions, client_id=client_id, interactive=interactive
        )
        return outcome.predictions

    async def aclassify_with_timings(
        self,
        texts: Sequence[str],
        *,
        directions: Sequence[str | None] | None = None,
        client_id: str | None = None,
        timeout_s: float | None = None,
        interactive: bool | None = None,
    ) -> Classification:
        """Like ``aclassify``, with timings; raises the batcher's errors (overloaded, deadline, ...)."""
        await self.start()
        batcher = self._batcher
        assert batcher is not None
        deadline = self._clock() + (timeout_s if timeout_s is not None else self.settings.request_timeout_s)
        # Refuse early under overload, before paying for tokenisation (submit checks again, exactly):
        # by items, and by an upper bound of the tokens (one per character plus two, at most
        # max_seq_len) against the deadline.
        limit = self.bundle.max_seq_len
        estimate = sum(min(limit, len(text) + 2) for text in texts)
        batcher.check_admission(len(texts), tokens=estimate, client_id=client_id, deadline=deadline)
        inline = len(texts) <= INLINE_PREPARE_TEXTS
        keys, rows, missing, work = await self._off_loop(inline, self._prepare, texts, directions)
        if self._observer is not None and len(texts) > len(missing):
            self._observer.cache_hits(len(texts) - len(missing))
        if interactive is None:
            interactive = len(texts) <= self.settings.interactive_max_items
        outcome = await batcher.submit(work, client_id=client_id, deadline=deadline, interactive=interactive)
        predictions = await self._off_loop(inline, self._finish, keys, rows, missing, outcome.results)
        return Classification(
            predictions, outcome.queue_seconds, outcome.inference_seconds, len(texts) - len(missing)
        )

    async def _off_loop(self, inline: bool, work: Callable[..., _T], *args: Any) -> _T:
        """``work(*args)`` on the event loop when ``inline`` (``INLINE_PREPARE_TEXTS``), else on the
        preparer thread, so a large request's tokenisation never stalls the loop."""
        if inline:
            return work(*args)
        return await asyncio.get_running_loop().run_in_executor(self._preparer, work, *args)

    def _finish(
        self,
        keys: list[str],
        rows: dict[int, Probabilities],
        missing: list[int],
        results: Sequence[Probabilities],
    ) -> list[Prediction]:
        """Predictions in input order from the cached ``rows`` and the scored ``results``; caches those."""
        scored: dict[str, Probabilities] = {}
        for i, probabilities in zip(missing, results, strict=True):
            rows[i] = probabilities
            scored[keys[i]] = probabilities
        self._store(scored)
        return [self._prediction(rows[i]) for i in range(len(keys))]

    def _prepare(
        self, texts: Sequence[str], directions: Sequence[str | None] | None
    ) -> tuple[list[str], dict[int, Probabilities], list[int], list[WorkItem[ModelRow]]]:
        keys = self._model_inputs(texts, directions)
        rows, missing = self._lookup(keys)
        ids = self._tokenizer.encode([keys[i] for i in missing])
        work = [
            WorkItem(keys[i], len(tokens), (tokens, keys[i])) for i, tokens in zip(missing, ids, strict=True)
        ]
        return keys, rows, missing, work

    async def _run_batch(self, payloads: list[ModelRow]) -> list[Probabilities]:
        assert self._executor is not None
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._infer, payloads)

    def _infer(self, payloads: list[ModelRow]) -> list[Probabilities]:
        # Timed here, in the worker: the batcher's cost model needs the model's time, not the event
        # loop's delay in noticing that the batch is done.
        started = time.perf_counter()
        probabilities = self._score([ids for ids, _ in payloads], [text for _, text in payloads])
        return TimedResults(probabilities, time.perf_counter() - started)

    def _score(self, ids: list[TokenIds], inputs: list[str]) -> Probabilities:
        """Probabilities for one batch: the ONNX model's, mixed with the lexical model's if the bundle has
        one (row by row: a text's answer never depends on its batch-mates)."""
        logits = self._engine.run(ids)
        lexical = self.bundle.lexical
        return softmax(logits if lexical is None else lexical.mix(logits, inputs))

    # -- shared helpers ----------------------------------------------------------------------------------

    def _model_inputs(self, texts: Sequence[str], directions: Sequence[str | None] | None) -> list[str]:
        """The model's input for each text, built by ``model_input`` for the bundle's normalisation; it is
        also the cache key, so an answer depends only on the text and its direction."""
        if directions is not None and len(directions) != len(texts):
            raise InvalidInputError(
                f"{len(directions)} directions for {len(texts)} texts",
                [ErrorDetail(("directions",), "give one direction (or None) per text")],
            )
        bundle = self.bundle
        gazetteer = bundle.gazetteer
        reads_direction = bundle.inputs.direction
        keys: list[str] = []
        problems: list[ErrorDetail] = []
        for i, text in enumerate(texts):
            direction = None if directions is None else directions[i]
            if direction is not None and direction not in DIRECTIONS:
                problems.append(ErrorDetail(("directions", i), f"must be one of {', '.join(DIRECTIONS)}"))
                direction = None
            normalized = normalize_text(text)
            if not normalized:
                problems.append(ErrorDetail(("texts", i), "text is empty after normalisation"))
            keys.append(
                model_input(
                    normalized,  # normalize_text is idempotent: model_input gives what it gives for text
                    direction=direction if reads_direction else None,
                    hint=gazetteer.lookup(normalized) if gazetteer is not None and normalized else None,
                    version=bundle.normalization,
                )
            )
        if problems:
            empty = sum(1 for problem in problems if problem.loc[0] == "texts")
            bad = len(problems) - empty
            summary = [
                f"{empty} text(s) are empty after normalisation" if empty else "",
                f"{bad} direction(s) are not one of {', '.join(DIRECTIONS)}" if bad else "",
            ]
            raise InvalidInputError("; ".join(part for part in summary if part), problems[:20])
        return keys

    def _lookup(self, keys: list[str]) -> tuple[dict[int, Probabilities], list[int]]:
        rows: dict[int, Probabilities] = {}
        missing: list[int] = []
        with self._cache_lock:
            for i, key in enumerate(keys):
                hit = self._cache.get((self.bundle.name, self.bundle.version, key))
                if hit is None:
                    missing.append(i)
                else:
                    rows[i] = hit
        return rows, missing

    def _store(self, scored: dict[str, Probabilities]) -> None:
        with self._cache_lock:
            for key, probabilities in scored.items():
                self._cache.put((self.bundle.name, self.bundle.version, key), probabilities)

    def _prediction(self, probabilities: Probabilities) -> Prediction:
        best = int(np.argmax(probabilities))
        confidence = float(probabilities[best])
        return Prediction(
            label=self.bundle.labels[best],
            confidence=confidence,
            abstained=confidence < self.bundle.abstain_threshold,
            probabilities=probabilities,
            labels=self.bundle.labels,
        )


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text[:300] if text else type(error).__name__

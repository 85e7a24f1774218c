"""Bulk scoring of files: CSV, JSONL or Parquet in, the same format out, streamed and resumable.

The input needs a ``text`` column and may have an ``id`` column (else the row number is the id) and a
``direction`` column (``debit``, ``credit``, or empty/null for unknown; passed to the classifier). Rows are
read and scored in chunks, so memory stays flat whatever the file size. Each finished chunk is written
atomically as a part file under ``OUTPUT.parts/``; a rerun skips finished parts (resume), and the parts are
joined into ``OUTPUT`` at the end. A manifest ties the parts to the input and chunk size, so a changed input
is never mixed with old results.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from service.classifier import Prediction
from service.normalize import DIRECTIONS, normalize_text

__all__ = ["ScoreSummary", "predict_sample", "score_file"]

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
OUTPUT_COLUMNS = ("id", "label", "confidence", "abstained")


class _Scorer(Protocol):
    def classify(
        self, texts: list[str], *, directions: Sequence[str | None] | None = None
    ) -> list[Prediction]: ...


@dataclass(frozen=True)
class ScoreSummary:
    rows: int
    chunks_scored: int
    chunks_resumed: int
    output: Path


def file_format(path: Path) -> str:
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise ValueError(f"{path}: unknown format; use one of {', '.join(sorted(FORMATS))}") from None


def score_file(
    classifier: _Scorer,
    input_path: Path,
    output_path: Path,
    *,
    chunk_size: int = 2048,
    resume: bool = True,
    progress: bool = True,
) -> ScoreSummary:
    """Score every row of ``input_path`` into ``output_path`` (label, confidence, abstained per id).

    Rows whose text is empty after normalisation get an empty label, confidence 0 and abstained true. A
    ``direction`` that is neither empty nor ``debit``/``credit`` raises ``ValueError`` naming the file and
    the row (numbered from 0, like default ids); chunks finished before it are kept for a resume.
    """
    from tqdm import tqdm

    in_format, out_format = file_format(input_path), file_format(output_path)
    for path, fmt in ((input_path, in_format), (output_path, out_format)):
        if fmt == "parquet":
            _require_pyarrow(path)  # before anything is written: a refusal leaves nothing behind
    parts = output_path.with_name(output_path.name + ".parts")
    manifest = {
        "input": str(input_path.resolve()),
        "size": input_path.stat().st_size,
        "mtime_ns": input_path.stat().st_mtime_ns,
        "chunk_size": chunk_size,
        "format": out_format,
    }
    _prepare_parts(parts, manifest, resume)
    scored = resumed = rows = 0
    with tqdm(total=_row_count(input_path, in_format), unit="row", disable=not progress) as bar:
        for number, chunk in enumerate(_read_chunks(input_path, in_format, chunk_size)):
            part = parts / f"part-{number:06d}.{out_format}"
            if part.exists():
                resumed += 1
            else:
                _write_part(part, out_format, _score_chunk(classifier, chunk, rows, input_path))
                scored += 1
            rows += len(chunk)
            bar.update(len(chunk))
    _join_parts(parts, output_path, out_format)
    shutil.rmtree(parts)
    return ScoreSummary(rows=rows, chunks_scored=scored, chunks_resumed=resumed, output=output_path)


def predict_sample(
    classifier: _Scorer, input_path: Path, *, limit: int, chunk_size: int = 2048
) -> tuple[list[str], list[float]]:
    """The served label and confidence of the first ``limit`` non-empty rows of ``input_path`` (a file
    ``score_file`` reads): what a drift reference (``txclassify reference``) is built from."""
    fmt = file_format(input_path)
    if fmt == "parquet":
        _require_pyarrow(input_path)
    labels: list[str] = []
    confidences: list[float] = []
    first_row = 0
    for chunk in _read_chunks(input_path, fmt, chunk_size):
        for row in _score_chunk(classifier, chunk, first_row, input_path):
            if row["label"] and len(labels) < limit:
                labels.append(str(row["label"]))
                confidences.append(float(row["confidence"]))
        first_row += len(chunk)
        if len(labels) >= limit:
            break
    return labels, confidences


def _require_pyarrow(path: Path) -> None:
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise ValueError(
            f"{path}: Parquet needs pyarrow; install the extra: pip install 'txclassify[parquet]'"
        ) from None


def _prepare_parts(parts: Path, manifest: dict[str, Any], resume: bool) -> None:
    manifest_path = parts / "manifest.json"
    if parts.exists():
        previous = json.loads(manifest_path.read_text()) if manifest_path.exists() else None
        if resume and previous == manifest:
            return
        if resume and previous is not None:
            raise ValueError(
                f"{parts}: left by a run on a different input or chunk size; delete it or pass --no-resume"
            )
        shutil.rmtree(parts)
    parts.mkdir(parents=True)
    manifest_path.write_text(json.dumps(manifest))


def _score_chunk(
    classifier: _Scorer, chunk: list[dict[str, Any]], first_row: int, path: Path
) -> list[dict[str, Any]]:
    texts = ["" if row.get("text") is None else str(row["text"]) for row in chunk]
    directions = [_direction(row.get("direction"), path, first_row + i) for i, row in enumerate(chunk)]
    valid = [i for i, text in enumerate(texts) if normalize_text(text)]
    scored = classifier.classify([texts[i] for i in valid], directions=[directions[i] for i in valid])
    predictions = dict(zip(valid, scored, strict=True))
    out = []
    for i, row in enumerate(chunk):
        identifier = row.get("id")
        prediction = predictions.get(i)
        out.append(
            {
                "id": str(first_row + i) if identifier is None or identifier == "" else str(identifier),
                "label": prediction.label if prediction else "",
                "confidence": round(prediction.confidence, 6) if prediction else 0.0,
                "abstained": prediction.abstained if prediction else True,
            }
        )
    return out


def _direction(value: Any, path: Path, row: int) -> str | None:
    """A row's direction: empty (CSV has no null) and null mean unknown."""
    if value is None or value == "":
        return None
    if value not in DIRECTIONS:
        raise ValueError(f"{path}: row {row}: direction {value!r} is not one of {', '.join(DIRECTIONS)}")
    return str(value)


def _row_count(path: Path, fmt: str) -> int | None:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    return None  # counting would mean reading the file twice


def _read_chunks(path: Path, fmt: str, size: int) -> Iterator[list[dict[str, Any]]]:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(path)
        names = parquet.schema_arrow.names
        _require_text(path, names)
        columns = [name for name in ("id", "text", "direction") if name in names]
        for batch in parquet.iter_batches(batch_size=size, columns=columns):
            yield batch.to_pylist()
        return
    with path.open(newline="", encoding="utf-8") as handle:
        rows: Iterator[dict[str, Any]]
        if fmt == "csv":
            reader = csv.DictReader(handle)
            _require_text(path, reader.fieldnames or [])
            rows = iter(reader)
        else:
            rows = (json.loads(line) for line in handle if line.strip())
        chunk: list[dict[str, Any]] = []
        for row in rows:
            if fmt == "jsonl" and "text" not in row:
                raise ValueError(f"{path}: a line has no 'text' field")
            chunk.append(row)
            if len(chunk) == size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def _require_text(path: Path, names: Sequence[str]) -> None:
    if "text" not in names:
        raise ValueError(f"{path}: no 'text' column (found {', '.join(names) or 'none'})")


def _write_part(part: Path, fmt: str, rows: list[dict[str, Any]]) -> None:
    temporary = part.with_name(part.name + ".tmp")
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows, schema=_arrow_schema()), temporary)
    elif fmt == "csv":
        with temporary.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=OUTPUT_COLUMNS)
            writer.writerows(rows)
    else:
        with temporary.open("w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    os.replace(temporary, part)  # atomic: a part exists only once complete


def _join_parts(parts: Path, output: Path, fmt: str) -> None:
    files = sorted(parts.glob(f"part-*.{fmt}"))
    temporary = output.with_name(output.name + ".tmp")
    if fmt == "parquet":
        import pyarrow.parquet as pq

        with pq.ParquetWriter(temporary, _arrow_schema()) as writer:
            for file in files:
                writer.write_table(pq.read_table(file))
    else:
        with temporary.open("wb") as handle:
            if fmt == "csv":
                handle.write((",".join(OUTPUT_COLUMNS) + "\r\n").encode())
            for file in files:
                with file.open("rb") as part:
                    shutil.copyfileobj(part, handle)
    os.replace(temporary, output)


def _arrow_schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [("id", pa.string()), ("label", pa.string()), ("confidence", pa.float64()), ("abstained", pa.bool_())]
    )

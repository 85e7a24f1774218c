"""The txclassify command in-process: classify, info, score (CSV, JSONL, Parquet) and resume."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from service import Classifier
from service.bulk import score_file
from service.cli import main
from service.settings import Settings

TEXTS = ["POS STARBUCKS 1234", "uber trip", "salary acme corp", "   ", "netflix.com", "zelle to ann"]


def test_classify_prints_one_line_per_text(tiny_bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--model-dir", str(tiny_bundle), "classify", "--json", "uber trip", "POS STARBUCKS"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["text"] for line in lines] == ["uber trip", "POS STARBUCKS"]
    labels = json.loads((tiny_bundle / "labels.json").read_text())
    assert all(line["label"] in labels for line in lines)


def test_info_shows_the_card(tiny_bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--model-dir", str(tiny_bundle), "info"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["card"]["name"] == "txclassify-tiny"
    assert len(info["labels"]) == 16


def test_a_bad_bundle_is_one_line_and_non_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--model-dir", str(tmp_path / "missing"), "info"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "missing" in error


def test_serve_refuses_a_bad_bundle_before_binding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--model-dir", str(tmp_path), "serve", "--port", "1"]) == 2
    error = capsys.readouterr().err
    assert "model.onnx: missing from the bundle" in error
    assert error.count("\n") == 1


def write_input(path: Path, texts: list[str]) -> None:
    rows = [{"id": f"row-{i}", "text": text} for i, text in enumerate(texts)]
    if path.suffix == ".csv":
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["id", "text"])
            writer.writeheader()
            writer.writerows(rows)
    elif path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    else:
        pq.write_table(pa.Table.from_pylist(rows), path)


def read_output(path: Path) -> list[dict[str, object]]:
    if path.suffix == ".csv":
        with path.open(newline="") as handle:
            return list(csv.DictReader(handle))
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text().splitlines()]
    return list(pq.read_table(path).to_pylist())


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_score_writes_one_row_per_input_row(tiny_bundle: Path, tmp_path: Path, suffix: str) -> None:
    source, target = tmp_path / f"in{suffix}", tmp_path / f"out{suffix}"
    write_input(source, TEXTS)
    assert main(["--model-dir", str(tiny_bundle), "score", str(source), "-o", str(target), "--quiet"]) == 0
    rows = read_output(target)
    assert [row["id"] for row in rows] == [f"row-{i}" for i in range(len(TEXTS))]
    expected = Classifier.load(tiny_bundle).classify([t for t in TEXTS if t.strip()])
    scored = [row for row in rows if row["label"]]
    assert [row["label"] for row in scored] == [p.label for p in expected]
    assert [float(str(row["confidence"])) for row in scored] == pytest.approx(
        [p.confidence for p in expected], abs=1e-6
    )
    assert rows[3]["label"] == ""  # the blank text
    assert not (tmp_path / f"out{suffix}.parts").exists()


class FailsAfter:
    """A classifier that breaks after ``chunks`` calls, as an interrupted run would."""

    def __init__(self, inner: Classifier, chunks: int) -> None:
        self.inner, self.left, self.calls = inner, chunks, 0

    def classify(self, texts: list[str], *, directions: object = None) -> list[object]:
        if self.left == 0:
            raise KeyboardInterrupt
        self.left -= 1
        self.calls += 1
        return self.inner.classify(texts, directions=directions)  # type: ignore[arg-type,return-value]


def test_score_resumes_where_it_stopped(tiny_bundle: Path, tmp_path: Path) -> None:
    texts = [f"merchant {i} payment" for i in range(50)]
    source, target = tmp_path / "in.jsonl", tmp_path / "out.csv"
    write_input(source, texts)
    classifier = Classifier.load(tiny_bundle, Settings(cache_size=0))
    with pytest.raises(KeyboardInterrupt):
        score_file(FailsAfter(classifier, 3), source, target, chunk_size=10, progress=False)  # type: ignore[arg-type]
    assert not target.exists()
    second = FailsAfter(classifier, 100)
    summary = score_file(second, source, target, chunk_size=10, progress=False)  # type: ignore[arg-type]
    assert (summary.chunks_resumed, summary.chunks_scored, second.calls) == (3, 2, 2)
    rows = read_output(target)
    assert [row["id"] for row in rows] == [f"row-{i}" for i in range(50)]
    fresh = tmp_path / "fresh.csv"
    score_file(classifier, source, fresh, chunk_size=10, progress=False)
    assert read_output(fresh) == rows


def test_score_refuses_parts_from_another_input(tiny_bundle: Path, tmp_path: Path) -> None:
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    write_input(source, TEXTS)
    classifier = Classifier.load(tiny_bundle)
    with pytest.raises(KeyboardInterrupt):
        score_file(FailsAfter(classifier, 0), source, target, chunk_size=2, progress=False)  # type: ignore[arg-type]
    write_input(source, [*TEXTS, "one more"])
    with pytest.raises(ValueError, match="different input"):
        score_file(classifier, source, target, chunk_size=2, progress=False)
    score_file(classifier, source, target, chunk_size=2, resume=False, progress=False)
    assert len(read_output(target)) == len(TEXTS) + 1


def test_score_needs_a_text_column(
    tiny_bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.csv"
    source.write_text("id,narration\n1,hello\n")
    assert main(["--model-dir", str(tiny_bundle), "score", str(source), "-o", str(tmp_path / "o.csv")]) == 1
    assert "no 'text' column" in capsys.readouterr().err


def write_rows(path: Path, rows: list[dict[str, object]]) -> None:
    if path.suffix == ".csv":
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    elif path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    else:
        pq.write_table(pa.Table.from_pylist(rows), path)


class Recorder:
    """A scorer that records the directions it is given."""

    def __init__(self, inner: Classifier) -> None:
        self.inner = inner
        self.directions: list[str | None] = []

    def classify(self, texts: list[str], *, directions: list[str | None] | None = None) -> list[object]:
        assert directions is not None
        self.directions.extend(directions)
        return self.inner.classify(texts, directions=directions)  # type: ignore[return-value]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_score_passes_the_direction_column(hinted_bundle: Path, tmp_path: Path, suffix: str) -> None:
    source, target = tmp_path / f"in{suffix}", tmp_path / f"out{suffix}"
    missing: str | None = "" if suffix == ".csv" else None
    rows: list[dict[str, object]] = [
        {"id": "a", "text": "tesco", "direction": "debit"},
        {"id": "b", "text": "tesco", "direction": "credit"},
        {"id": "c", "text": "   ", "direction": "credit"},
        {"id": "d", "text": "tesco", "direction": missing},
    ]
    write_rows(source, rows)
    classifier = Classifier.load(hinted_bundle)
    recorder = Recorder(classifier)
    score_file(recorder, source, target, progress=False)  # type: ignore[arg-type]
    assert recorder.directions == ["debit", "credit", None]  # the blank text is not scored
    expected = classifier.classify(["tesco"] * 3, directions=["debit", "credit", None])
    scored = [row for row in read_output(target) if row["label"]]
    assert [row["label"] for row in scored] == [p.label for p in expected]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_bad_direction_is_one_line_naming_the_row(
    tiny_bundle: Path, tmp_path: Path, suffix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / f"in{suffix}"
    write_rows(
        source,
        [{"id": str(i), "text": "uber", "direction": "debit" if i != 13 else "DR"} for i in range(20)],
    )
    command = ["--model-dir", str(tiny_bundle), "score", str(source), "-o", str(tmp_path / "o.csv")]
    assert main([*command, "--chunk-size", "5", "--quiet"]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert f"{source}: row 13: direction 'DR' is not one of debit, credit" in error


def test_classify_takes_a_direction(hinted_bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    command = ["--model-dir", str(hinted_bundle), "classify", "--json"]
    assert main([*command, "--direction", "credit", "tesco", "uber"]) == 0
    with_direction = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    expected = Classifier.load(hinted_bundle).classify(["tesco", "uber"], directions=["credit", "credit"])
    assert [line["label"] for line in with_direction] == [p.label for p in expected]
    assert [line["confidence"] for line in with_direction] == [round(p.confidence, 6) for p in expected]
    assert main([*command, "tesco", "uber"]) == 0
    without = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["confidence"] for line in without] != [line["confidence"] for line in with_direction]
    with pytest.raises(SystemExit):
        main([*command, "--direction", "sideways", "tesco"])


def test_info_shows_the_inputs(hinted_bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--model-dir", str(hinted_bundle), "info"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["normalization"] == "txc-norm-2"
    assert info["inputs"] == {
        "direction": True,
        "gazetteer": {"source": "tests 1", "entries": 4, "matching": "exact"},
    }


def test_model_dir_is_accepted_after_the_command(
    tiny_bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["info", "--model-dir", str(tiny_bundle)]) == 0
    assert json.loads(capsys.readouterr().out)["card"]["name"] == "txclassify-tiny"
    # After the command it wins over the one before it.
    assert main(["--model-dir", "/nonexistent", "info", "--model-dir", str(tiny_bundle)]) == 0


@pytest.mark.parametrize("direction", ["input", "output"])
def test_parquet_without_pyarrow_is_one_line_and_leaves_nothing_behind(
    tiny_bundle: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    direction: str,
) -> None:
    source = tmp_path / ("in.parquet" if direction == "input" else "in.csv")
    if direction == "input":
        pq.write_table(pa.table({"text": ["uber trip"]}), source)
    else:
        source.write_text("text\nuber trip\n")
    output = tmp_path / ("out.csv" if direction == "input" else "out.parquet")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    assert (
        main(["score", str(source), "--output", str(output), "--model-dir", str(tiny_bundle), "--quiet"]) == 1
    )
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "txclassify[parquet]" in error
    assert sorted(path.name for path in tmp_path.iterdir()) == [source.name]


@pytest.fixture
def tiny_bundle_copy(tiny_bundle: Path, tmp_path: Path) -> Path:
    """A bundle of one's own: ``reference`` writes into its card."""
    import shutil

    return Path(shutil.copytree(tiny_bundle, tmp_path / "bundle"))


def test_reference_sets_the_drift_reference_from_a_traffic_sample(
    tiny_bundle_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = tmp_path / "traffic.csv"
    sample.write_text(
        "id,text,direction\n1,tesco stores 3297,debit\n2,netflix.com,\n3,,\n4,salary acme corp,credit\n",
        encoding="utf-8",
    )
    before = json.loads((tiny_bundle_copy / "model_card.json").read_text(encoding="utf-8"))
    code = main(["reference", str(sample), "--model-dir", str(tiny_bundle_copy), "--rows", "2"])
    assert code == 0
    assert "wrote the drift reference (2 rows" in capsys.readouterr().err
    card = json.loads((tiny_bundle_copy / "model_card.json").read_text(encoding="utf-8"))
    assert card["reference"]["rows"] == 2
    assert abs(sum(card["reference"]["label_distribution"].values()) - 1) < 1e-6
    assert {k: v for k, v in card.items() if k != "reference"} == {
        k: v for k, v in before.items() if k != "reference"
    }
    # The bundle still loads and its monitor reads the reference.
    from service.bundle import ModelBundle
    from service.monitoring import Reference

    bundle = ModelBundle.load(tiny_bundle_copy)
    assert Reference.from_card(bundle.card, bundle.labels) is not None


def test_reference_refuses_an_empty_sample(
    tiny_bundle_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = tmp_path / "empty.csv"
    sample.write_text("text\n\n", encoding="utf-8")
    assert main(["reference", str(sample), "--model-dir", str(tiny_bundle_copy)]) == 1
    assert "no rows with text" in capsys.readouterr().err

"""``txclassify-train``: a missing [train] extra is named, not a traceback; ``sample`` prints narrations."""

from __future__ import annotations

from pathlib import Path

import pytest

from training import cli
from training.labels import LABELS

TINY = Path(__file__).resolve().parents[2] / "training" / "configs" / "tiny.yaml"


def test_build_without_the_train_extra_names_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(cli, "_TRAIN_MODULES", ("yaml", "txclassify_no_such_module"))
    code = cli.main(["build", "--config", str(TINY), "--output-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "missing: txclassify_no_such_module" in err
    assert "yaml" not in err.split("missing:")[1].split(")")[0]  # installed modules are not listed
    assert "pip install torch==2.13.0" in err
    assert list(tmp_path.iterdir()) == []  # nothing started


def test_sample_prints_one_labelled_narration_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["sample", "5", "--split", "test"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5
    assert all(line.split()[0] in LABELS for line in lines)

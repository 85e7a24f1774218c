"""The AVX2 check: comparison logic, a clear error without the emulator, and the committed default
bundle scored on an emulated Haswell (AVX2, no AVX-512, no VNNI) giving the host's answers exactly."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from training.cli import main
from training.isa import IsaUnavailable, compare, require_emulator


def test_identical_runs_compare_equal() -> None:
    probs = np.random.default_rng(0).dirichlet(np.ones(16), size=8).astype(np.float32)
    assert compare(probs, probs.copy()) == (0.0, 1.0)


def test_a_moved_probability_and_a_flipped_label_are_reported() -> None:
    host = np.full((4, 3), [0.6, 0.3, 0.1], dtype=np.float32)
    emulated = host.copy()
    emulated[2] = [0.3, 0.6, 0.1]
    delta, agreement = compare(host, emulated)
    assert delta == pytest.approx(0.3)
    assert agreement == 0.75


def test_shapes_must_match() -> None:
    with pytest.raises(ValueError, match="shape mismatch"):
        compare(np.zeros((2, 16), np.float32), np.zeros((3, 16), np.float32))


def test_missing_emulator_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(IsaUnavailable, match="apt-get install qemu-user"):
        require_emulator()


@pytest.mark.skipif(shutil.which("qemu-x86_64") is None, reason="qemu-user not installed")
def test_default_bundle_answers_the_same_on_an_avx2_only_cpu(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-isa", "--texts", "24"]) == 0
    out = capsys.readouterr().out
    assert "PASS  Haswell" in out
    assert "top-1 agreement 100.00%" in out

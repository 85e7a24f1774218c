"""The AVX2 check: comparison logic, a clear error without the emulator, and the committed default
bundle scored on an emulated Haswell (AVX2, no AVX-512, no VNNI) giving the host's answers exactly."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.fixtures.tiny_bundle import VOCABULARY_WORDS
from training.cli import main
from training.isa import IsaUnavailable, compare, node_differences, require_emulator


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


def _host_has_avx512() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            return " avx512f" in cpuinfo.read()
    except OSError:
        return False


@pytest.mark.skipif(shutil.which("qemu-x86_64") is None, reason="qemu-user not installed")
@pytest.mark.skipif(not _host_has_avx512(), reason="the host must have AVX-512 for its kernels to differ")
def test_per_node_comparison_finds_the_isa_dependent_softmax_and_not_its_written_out_form(
    tiny_bundle: Path, tmp_path: Path
) -> None:
    import onnx

    from service.bundle import ModelBundle
    from training.export import decompose_softmax

    bundle = ModelBundle.load(tiny_bundle)
    # Long rows: MLAS's vector softmax paths (where the CPUs differ) take rows of more than 16 values.
    words = VOCABULARY_WORDS
    texts = [" ".join(words[(i + j) % len(words)] for j in range(40)) for i in range(24)]
    arguments = {"max_len": bundle.max_seq_len, "pad_id": bundle.pad_token_id, "texts": texts}
    found = node_differences(bundle.model_path, bundle.tokenizer_path, **arguments)  # type: ignore[arg-type]
    assert {item.op_type for item in found} >= {"Softmax"}
    assert all(item.max_delta < 1e-5 for item in found if item.op_type == "Softmax")
    written_out = onnx.load(str(bundle.model_path))
    assert decompose_softmax(written_out) > 0
    rewritten = tmp_path / "model.onnx"
    onnx.save(written_out, str(rewritten))
    assert node_differences(rewritten, bundle.tokenizer_path, **arguments) == []  # type: ignore[arg-type]

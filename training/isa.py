"""Same text, same answer on every x86-64 CPU: score a model on this host and on an emulated AVX2-only CPU.

ONNX Runtime picks its int8 kernels by CPU feature: AVX-512 VNNI here, ``vpmaddubsw`` (u8 x s8 pair sums
into int16, which saturate unless weights are 7-bit) on AVX2 machines without VNNI. The build machine has
VNNI, so the AVX2 path is run under ``qemu-x86_64 -cpu Haswell`` (user-mode emulation: AVX2 and FMA, no
AVX-512, no VNNI; Debian package ``qemu-user``), on the same texts, and the probabilities are compared.
ONNX Runtime reads the CPU's features with ``cpuid``, which qemu answers for the emulated model.

Emulation is slow (~4 texts/s per core for the v1 student), so a few hundred texts is the sensible size.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from training.runtime import OnnxClassifier, softmax

__all__ = [
    "EMULATED_CPU",
    "IsaReport",
    "IsaUnavailable",
    "compare",
    "compare_on_emulated_cpu",
    "probabilities",
    "require_emulator",
]

#: qemu's Haswell model: AVX2 + FMA + F16C, no AVX-512, no AVX-VNNI: the oldest CPU the bundle supports.
EMULATED_CPU = "Haswell"


class IsaUnavailable(RuntimeError):
    """The emulator is missing or this host is not x86-64; the message says how to get it."""


@dataclass(frozen=True)
class IsaReport:
    cpu: str
    texts: int
    max_delta: float
    top1_agreement: float
    seconds: float

    def same_answers(self, tolerance: float) -> bool:
        """Every top label equal and no probability moved by more than ``tolerance``."""
        return self.max_delta <= tolerance and self.top1_agreement == 1.0


def probabilities(
    model_path: Path, tokenizer_path: Path, *, max_len: int, pad_id: int, texts: Sequence[str]
) -> npt.NDArray[np.float32]:
    """Class probabilities as the gate computes them (one thread: the emulated run is single-core too)."""
    model = OnnxClassifier(model_path, tokenizer_path, max_len=max_len, pad_id=pad_id, threads=1)
    return softmax(model.logits(texts))


def compare(host: npt.NDArray[np.float32], emulated: npt.NDArray[np.float32]) -> tuple[float, float]:
    """``(max |delta probability|, top-1 agreement)`` between two runs on the same texts."""
    if host.shape != emulated.shape:
        raise ValueError(f"shape mismatch: host {host.shape} vs emulated {emulated.shape}")
    delta = float(np.abs(host - emulated).max()) if host.size else 0.0
    agreement = float((host.argmax(axis=1) == emulated.argmax(axis=1)).mean()) if len(host) else 1.0
    return delta, agreement


def compare_on_emulated_cpu(
    model_path: Path,
    tokenizer_path: Path,
    *,
    max_len: int,
    pad_id: int,
    texts: Sequence[str],
    cpu: str = EMULATED_CPU,
    qemu: str | None = None,
    timeout_s: float = 1800.0,
) -> IsaReport:
    """Score ``texts`` here and under ``qemu-x86_64 -cpu <cpu>``; raises :class:`IsaUnavailable`."""
    emulator = qemu or require_emulator()
    start = time.perf_counter()
    host = probabilities(model_path, tokenizer_path, max_len=max_len, pad_id=pad_id, texts=texts)
    with tempfile.TemporaryDirectory(prefix="txc-isa-") as scratch:
        request = Path(scratch) / "request.json"
        output = Path(scratch) / "probabilities.npy"
        request.write_text(json.dumps({
            "model": str(model_path), "tokenizer": str(tokenizer_path), "max_len": max_len, "pad_id": pad_id,
            "texts": list(texts), "output": str(output),
        }))  # fmt: skip
        path = os.pathsep.join(filter(None, [_root(), os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "PYTHONPATH": path}
        command = [emulator, "-cpu", cpu, sys.executable, "-m", "training.isa", str(request)]
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=timeout_s, check=False
        )
        if done.returncode != 0 or not output.exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise RuntimeError(f"the emulated run ({' '.join(command[:3])}) failed: {' | '.join(tail)}")
        emulated = np.load(output)
    delta, agreement = compare(host, emulated)
    return IsaReport(cpu, len(texts), delta, agreement, round(time.perf_counter() - start, 1))


def require_emulator() -> str:
    """The path of ``qemu-x86_64``, or :class:`IsaUnavailable` saying how to get it (checked before a
    build starts, so a missing emulator fails in a second, not after the training)."""
    if platform.machine().lower() not in {"x86_64", "amd64"}:
        raise IsaUnavailable(f"the AVX2 check emulates an x86-64 CPU; this host is {platform.machine()}")
    emulator = shutil.which("qemu-x86_64")
    if emulator is None:
        raise IsaUnavailable("qemu-x86_64 not found: install it with `apt-get install qemu-user`")
    return emulator


def _root() -> str:
    return str(Path(__file__).resolve().parents[1])


def _emulated_main(request_path: str) -> int:
    """Child side: runs inside the emulator, writes the probabilities where the request says."""
    request = json.loads(Path(request_path).read_text())
    probs = probabilities(
        Path(request["model"]), Path(request["tokenizer"]), max_len=int(request["max_len"]),
        pad_id=int(request["pad_id"]), texts=request["texts"],
    )  # fmt: skip
    np.save(request["output"], probs)
    return 0


if __name__ == "__main__":
    raise SystemExit(_emulated_main(sys.argv[1]))

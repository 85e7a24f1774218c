"""Same text, same answer on every x86-64 CPU: score a model on this host and on an emulated AVX2-only CPU.

ONNX Runtime picks its int8 kernels by CPU feature: AVX-512 VNNI here, ``vpmaddubsw`` (u8 x s8 pair sums
into int16, which saturate unless weights are 7-bit) on AVX2 machines without VNNI. The build machine has
VNNI, so the AVX2 path is run under ``qemu-x86_64 -cpu Haswell`` (user-mode emulation: AVX2 and FMA, no
AVX-512, no VNNI; Debian package ``qemu-user``), on the same texts, and the probabilities are compared.
ONNX Runtime reads the CPU's features with ``cpuid``, which qemu answers for the emulated model.

Emulation is slow (~4 texts/s per core for the v1 student), so a few hundred texts is the sensible size.

When the check fails, ``node_differences`` says where: it compares every intermediate tensor, not just
the probabilities (``txclassify-train check-isa --per-node``). That is how the attention ``Softmax``
was found to be the one ISA-dependent kernel of the student (docs/model.md, "The softmax is written
out").
"""

from __future__ import annotations

import json
import math
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
from typing import Any

import numpy as np
import numpy.typing as npt

from training.runtime import OnnxClassifier, softmax

__all__ = [
    "EMULATED_CPU",
    "IsaReport",
    "IsaUnavailable",
    "NodeDifference",
    "compare",
    "compare_on_emulated_cpu",
    "node_differences",
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
        _run_emulated(emulator, cpu, request, output, timeout_s)
        emulated = np.load(output)
    delta, agreement = compare(host, emulated)
    return IsaReport(cpu, len(texts), delta, agreement, round(time.perf_counter() - start, 1))


@dataclass(frozen=True)
class NodeDifference:
    """One node output that is not bit-identical on the two CPUs."""

    node: str
    op_type: str
    output: str
    differing: int
    elements: int
    max_delta: float


def node_differences(
    model_path: Path,
    tokenizer_path: Path,
    *,
    max_len: int,
    pad_id: int,
    texts: Sequence[str],
    cpu: str = EMULATED_CPU,
    qemu: str | None = None,
    timeout_s: float = 1800.0,
) -> list[NodeDifference]:
    """Every node output of ``model_path`` that differs between this host and ``qemu -cpu <cpu>``, in
    graph order, for ``texts`` scored as one padded batch. The graph is the one ONNX Runtime optimises
    here (fused kernels included), with each node output made a graph output, run unoptimised on both
    CPUs so both run the same nodes; raises :class:`IsaUnavailable`."""
    import onnx
    import onnxruntime as ort

    emulator = qemu or require_emulator()
    with tempfile.TemporaryDirectory(prefix="txc-isa-nodes-") as scratch_dir:
        scratch = Path(scratch_dir)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.optimized_model_filepath = str(scratch / "optimised.onnx")
        ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        graph = onnx.load(str(scratch / "optimised.onnx"))
        exposed = {output.name for output in graph.graph.output}
        order: list[tuple[str, str, str]] = []
        for node in graph.graph.node:
            for output in node.output:
                if output and output not in exposed:
                    graph.graph.output.append(onnx.ValueInfoProto(name=output))
                    exposed.add(output)
                order.append((node.name, node.op_type, output))
        probe = scratch / "probe.onnx"
        onnx.save(graph, str(probe))
        model = OnnxClassifier(model_path, tokenizer_path, max_len=max_len, pad_id=pad_id, threads=1)
        rows = model.encode(texts)
        longest = max(len(row) for row in rows)
        input_ids = np.full((len(rows), longest), pad_id, dtype=np.int64)
        mask = np.zeros_like(input_ids)
        for i, row in enumerate(rows):
            input_ids[i, : len(row)] = row
            mask[i, : len(row)] = 1
        np.savez(scratch / "feeds.npz", input_ids=input_ids, attention_mask=mask)
        _probe_outputs(probe, scratch / "feeds.npz", scratch / "host.npz")
        request = scratch / "request.json"
        request.write_text(json.dumps({
            "probe": str(probe), "feeds": str(scratch / "feeds.npz"), "output": str(scratch / "emulated.npz"),
        }))  # fmt: skip
        _run_emulated(emulator, cpu, request, scratch / "emulated.npz", timeout_s)
        host, emulated = np.load(scratch / "host.npz"), np.load(scratch / "emulated.npz")
        found = []
        for node, op_type, output in order:
            if output not in host.files:
                continue
            a, b = host[output], emulated[output]
            differing = int((a != b).sum()) if a.shape == b.shape else a.size
            if differing:
                delta = (
                    float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max())
                    if a.shape == b.shape
                    else math.inf
                )
                found.append(NodeDifference(node, op_type, output, differing, int(a.size), delta))
        return found


def _run_emulated(emulator: str, cpu: str, request: Path, output: Path, timeout_s: float) -> None:
    """Run this module's child side under ``emulator -cpu <cpu>`` on ``request``; it writes ``output``."""
    path = os.pathsep.join(filter(None, [_root(), os.environ.get("PYTHONPATH")]))
    command = [emulator, "-cpu", cpu, sys.executable, "-m", "training.isa", str(request)]
    done = subprocess.run(
        command, env={**os.environ, "PYTHONPATH": path}, capture_output=True, text=True,
        timeout=timeout_s, check=False,
    )  # fmt: skip
    if done.returncode != 0 or not output.exists():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"the emulated run ({' '.join(command[:3])}) failed: {' | '.join(tail)}")


def _probe_outputs(probe: Path, feeds_path: Path, output: Path) -> None:
    """Run ``probe`` unoptimised on one thread and save every output by name."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(str(probe), options, providers=["CPUExecutionProvider"])
    stored = np.load(feeds_path)
    feeds = {"input_ids": stored["input_ids"], "attention_mask": stored["attention_mask"]}
    if "token_type_ids" in {item.name for item in session.get_inputs()}:
        feeds["token_type_ids"] = np.zeros_like(feeds["input_ids"])
    names = [item.name for item in session.get_outputs()]
    values = session.run(None, feeds)
    arrays: dict[str, Any] = {name: np.asarray(value) for name, value in zip(names, values, strict=True)}
    np.savez(output, **arrays)


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
    if "probe" in request:
        _probe_outputs(Path(request["probe"]), Path(request["feeds"]), Path(request["output"]))
        return 0
    probs = probabilities(
        Path(request["model"]), Path(request["tokenizer"]), max_len=int(request["max_len"]),
        pad_id=int(request["pad_id"]), texts=request["texts"],
    )  # fmt: skip
    np.save(request["output"], probs)
    return 0


if __name__ == "__main__":
    raise SystemExit(_emulated_main(sys.argv[1]))

"""Helpers for the deploy tests: find the pinned tools, render the chart, read the service's contract.

Tools come from deploy/install-test-deps.sh (.tools/bin, .venv-deploytools/bin). Where one is missing the
tests skip, except under CI (``CI`` set), where a missing tool is a failure: CI runs the install script.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

__all__ = [
    "CHART_DIR",
    "KUBE_VERSIONS",
    "REPO_ROOT",
    "VALUE_SETS",
    "Rendered",
    "ValueSet",
    "find",
    "helm",
    "render",
    "render_raw",
    "require_tool",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = REPO_ROOT / "deploy" / "helm" / "txclassify"
RELEASE = "txc"
NAMESPACE = "txclassify"
#: Kubernetes versions every value set is rendered for and validated against.
KUBE_VERSIONS = ("1.29.0", "1.33.0")
SERVICE_MONITOR_API = "monitoring.coreos.com/v1"

_TOOL_DIRS = (REPO_ROOT / ".tools" / "bin", REPO_ROOT / ".venv-deploytools" / "bin")


@dataclass(frozen=True)
class ValueSet:
    """A values file of the chart's ci/ folder, and what rendering it must produce."""

    values: Mapping[str, Any]
    api_versions: tuple[str, ...] = ()
    expect_kinds: frozenset[str] = field(default_factory=frozenset)


def _value_set(name: str, api_versions: tuple[str, ...] = (), *kinds: str) -> ValueSet:
    values = yaml.safe_load((CHART_DIR / "ci" / f"{name}-values.yaml").read_text()) or {}
    return ValueSet(values, api_versions, frozenset(kinds))


# The chart's ci/*-values.yaml (the chart-testing convention), each rendered and checked.
VALUE_SETS: dict[str, ValueSet] = {
    "default": _value_set("default", (), "Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget"),
    "keda": _value_set("keda", (), "ScaledObject"),
    "servicemonitor": _value_set("servicemonitor", (SERVICE_MONITOR_API,), "ServiceMonitor"),
    "job": _value_set("job", (), "Job"),
    "autoscaling-off": _value_set("autoscaling-off", (), "Deployment"),
    "auth": _value_set("auth", (), "Deployment", "Secret"),
    "production-loop": _value_set(
        "production-loop", (SERVICE_MONITOR_API,), "Deployment", "NetworkPolicy", "PrometheusRule"
    ),
    "production": _value_set(
        "production",
        (SERVICE_MONITOR_API,),
        "NetworkPolicy",
        "Job",
        "ServiceMonitor",
        "HorizontalPodAutoscaler",
    ),
}


def require_tool(name: str) -> str:
    """Path of a tool from the install script (or PATH); skip without it, fail under CI."""
    for directory in _TOOL_DIRS:
        candidate = directory / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    # Only helm needs to be the pinned v4: Debian's own tools are too old, never pick them from PATH.
    found = shutil.which(name) if name not in {"helm", "kubectl"} else None
    if found:
        return found
    message = f"{name} not found: run deploy/install-test-deps.sh"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI must install every deploy test tool)")
    pytest.skip(message)


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the pinned helm; the caller checks the return code."""
    return subprocess.run(
        [require_tool("helm"), *args], capture_output=True, text=True, check=False, timeout=120
    )


@dataclass(frozen=True)
class Rendered:
    """One render of the chart: its documents (hook/test pods included) and the text they came from."""

    docs: list[dict[str, Any]]
    text: str

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [doc for doc in self.docs if doc.get("kind") == kind]

    def one(self, kind: str) -> dict[str, Any]:
        found = self.of_kind(kind)
        assert len(found) == 1, f"expected one {kind}, got {len(found)}"
        return found[0]


@contextmanager
def _values_file(values: Mapping[str, Any]) -> Iterator[str]:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="txc-values-", delete=False) as handle:
        yaml.safe_dump(dict(values), handle)
    try:
        yield handle.name
    finally:
        os.unlink(handle.name)


def _render_args(kube_version: str = KUBE_VERSIONS[-1], api_versions: tuple[str, ...] = ()) -> list[str]:
    args = ["template", RELEASE, str(CHART_DIR), "--namespace", NAMESPACE, "--kube-version", kube_version]
    for api_version in api_versions:
        args += ["--api-versions", api_version]
    return args


def render_raw(
    values: Mapping[str, Any], kube_version: str = KUBE_VERSIONS[-1], api_versions: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """``helm template`` with these values; not checked."""
    with _values_file(values) as path:
        return helm(*_render_args(kube_version, api_versions), "--values", path)


def render(
    values: Mapping[str, Any], kube_version: str = KUBE_VERSIONS[-1], api_versions: tuple[str, ...] = ()
) -> Rendered:
    """Render the chart (test hooks included) and parse every document; fails on a render error."""
    result = render_raw(values, kube_version, api_versions)
    assert result.returncode == 0, f"helm template failed:\n{result.stderr}"
    docs = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    return Rendered(docs=docs, text=result.stdout)


def find(docs: list[dict[str, Any]], kind: str, name_suffix: str = "") -> dict[str, Any]:
    """The one document of this kind whose name ends with name_suffix."""
    matches = [d for d in docs if d.get("kind") == kind and d["metadata"]["name"].endswith(name_suffix)]
    assert len(matches) == 1, f"expected one {kind} named *{name_suffix}, got {len(matches)}"
    return matches[0]

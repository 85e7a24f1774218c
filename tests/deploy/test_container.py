"""Build the image offline with podman, run it read-only, classify (deploy/container-smoke.sh), then run
it exactly as the chart's Deployment does and pass the chart's own `helm test` script against it.

The image bakes the repository's default bundle (models/index.json) when there is one, otherwise a tiny
real bundle built here (tests/fixtures/tiny_bundle.py), so the image path is tested before the model
exists.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.chart import REPO_ROOT, render

SMOKE_SCRIPT = REPO_ROOT / "deploy" / "container-smoke.sh"
IMAGE = "localhost/txclassify:smoke"  # the tag deploy/container-smoke.sh builds
# The runtime image (python, onnxruntime, numpy, tokenizers, uvicorn, model) must stay small.
MAX_IMAGE_MB = 600
READY_TIMEOUT_S = 180


@dataclass(frozen=True)
class BuiltImage:
    smoke: dict[str, str]  # KEY=VALUE lines the smoke script printed
    bundle: str  # directory name of the baked default bundle
    podman_env: dict[str, str]  # the script's private podman configuration


def _require_podman() -> None:
    missing = [tool for tool in ("podman", "runc") if shutil.which(tool) is None]
    reason = ""
    if missing:
        reason = f"{', '.join(missing)} not installed: run deploy/install-test-deps.sh"
    elif os.geteuid() != 0:
        reason = "the podman smoke test runs as root (private rootful storage, runc)"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI must run the container smoke test)")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def built_image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltImage]:
    _require_podman()
    state = Path(os.environ.get("TXC_PODMAN_STATE") or Path(tempfile.gettempdir()) / "txclassify-podman")
    env = {**os.environ, "TXC_PODMAN_STATE": str(state)}
    command = ["bash", str(SMOKE_SCRIPT), "--keep-image"]
    index = REPO_ROOT / "models" / "index.json"
    if index.is_file():
        bundle = str(json.loads(index.read_text())["default"])
    else:
        bundle = "txclassify-0.0.0-tiny"
        bundle_dir = tmp_path_factory.mktemp("bundle") / bundle
        subprocess.run(
            [sys.executable, "-m", "tests.fixtures.tiny_bundle", str(bundle_dir)],
            cwd=REPO_ROOT,
            check=True,
            capture_output=True,
            timeout=300,
        )
        command += ["--bundle", str(bundle_dir)]
    result = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False, timeout=1500
    )
    assert result.returncode == 0, f"container smoke failed:\n{result.stdout}\n{result.stderr[-4000:]}"
    smoke = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    podman_env = {
        **os.environ,
        "CONTAINERS_CONF": str(state / "containers.conf"),
        "CONTAINERS_REGISTRIES_CONF": str(state / "registries.conf"),
        "CONTAINERS_STORAGE_CONF": str(state / "storage.conf"),
    }
    yield BuiltImage(smoke=smoke, bundle=bundle, podman_env=podman_env)
    subprocess.run(["podman", "rmi", "--force", IMAGE], env=podman_env, capture_output=True, check=False)
    subprocess.run(["podman", "image", "prune", "--force"], env=podman_env, capture_output=True, check=False)


@pytest.mark.container
def test_image_builds_offline_and_classifies_read_only(built_image: BuiltImage) -> None:
    out = built_image.smoke
    assert out["SMOKE"] == "passed"
    assert out["IMAGE_USER"] == "10001:10001"
    assert out["IMAGE_CHECKS"].startswith("ok "), out["IMAGE_CHECKS"]
    assert "torch=absent" in out["IMAGE_CHECKS"]
    assert "compilers=none" in out["IMAGE_CHECKS"]
    assert "cli=txclassify " in out["IMAGE_CHECKS"]  # the serving CLI, not the training one
    assert json.loads(out["READYZ"])["status"] == "ready"
    answer = json.loads(out["CLASSIFY"])
    assert answer["results"][0]["id"] == "smoke-1"
    assert answer["results"][0]["label"]
    assert float(out["METRICS txclassify_queue_wait_seconds_count"]) >= 1
    assert out["BULK_SCORE_ROWS"] == "2", "the bulk-scoring Job's command must work in the image"
    assert out["STOP_EXIT_CODE"] == "0"
    assert int(out["IMAGE_SIZE_MB"]) < MAX_IMAGE_MB, f"image is {out['IMAGE_SIZE_MB']} MB"


def _podman(image: BuiltImage, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args], env=image.podman_env, capture_output=True, text=True, check=False, timeout=timeout
    )


def _chart_for(bundle: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The chart's server container and `helm test` container, rendered for the baked bundle."""
    name, version = bundle.split("-", 1)
    rendered = render({"model": {"name": name, "version": version}})
    deployment = rendered.one("Deployment")
    test_pod = rendered.one("Pod")
    return deployment["spec"]["template"]["spec"]["containers"][0], test_pod["spec"]["containers"][0]


@pytest.mark.container
def test_chart_container_spec_runs_the_image_and_passes_helm_test(built_image: BuiltImage) -> None:
    server, helm_test = _chart_for(built_image.bundle)
    security = server["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    run = ["run", "-d", "--pull=never", "--network=none", "--read-only", "--tmpfs", "/tmp"]
    run += ["--user", f"{security['runAsUser']}:{security['runAsGroup']}", "--cap-drop=ALL"]
    run += ["--security-opt=no-new-privileges", "--health-interval=disable"]
    for item in server["env"]:
        run += ["--env", f"{item['name']}={item['value']}"]
    port = server["ports"][0]["containerPort"]
    started = _podman(built_image, *run, IMAGE, *server["args"])
    assert started.returncode == 0, started.stderr
    container = started.stdout.strip()
    try:
        # The startup probe's job, from inside the container's own network namespace (--network=none).
        ready = _podman(
            built_image,
            "exec",
            container,
            "python3",
            "-c",
            "import sys, time, urllib.request\n"
            f"deadline = time.monotonic() + {READY_TIMEOUT_S}\n"
            "while True:\n"
            "    try:\n"
            f"        urllib.request.urlopen('http://127.0.0.1:{port}{server['startupProbe']['httpGet']['path']}')\n"
            "        break\n"
            "    except OSError:\n"
            "        if time.monotonic() > deadline: sys.exit('not ready')\n"
            "        time.sleep(0.5)\n",
            timeout=READY_TIMEOUT_S + 30,
        )
        assert ready.returncode == 0, ready.stderr + _podman(built_image, "logs", container).stderr
        # The chart's `helm test` script, pointed at the pod instead of the Service.
        test_env = {item["name"]: item["value"] for item in helm_test["env"]}
        test_env["TXC_TEST_URL"] = f"http://127.0.0.1:{port}/v1/classify"
        exec_args = ["exec"] + [f"--env={key}={value}" for key, value in test_env.items()]
        tested = _podman(built_image, *exec_args, container, *helm_test["command"], *helm_test["args"])
        assert tested.returncode == 0, tested.stderr
        assert "classified:" in tested.stdout
        # SIGTERM as the kubelet sends it after preStop: a clean exit within the graceful timeout.
        graceful_s = next(int(e["value"]) for e in server["env"] if e["name"] == "TXC_GRACEFUL_TIMEOUT_S")
        stopped = _podman(built_image, "stop", "--time", str(graceful_s), container, timeout=graceful_s + 30)
        assert stopped.returncode == 0, stopped.stderr
        exit_code = _podman(built_image, "inspect", "--format", "{{.State.ExitCode}}", container)
        assert exit_code.stdout.strip() == "0"
    finally:
        _podman(built_image, "rm", "--force", container)

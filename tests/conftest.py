"""Shared fixtures: one tiny real model bundle (a random BERT exported to ONNX), built once.

Building needs torch (about ten seconds, mostly imports), so the bundle is kept under ``.cache/`` keyed
by the builder's source, the bundle writer's (service/bundle.py) and the normalisation version, and rebuilt
whenever one changes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from service import bundle as bundle_module
from service.bundle import ModelBundle
from service.errors import BundleError
from service.normalize import NORMALIZATION_VERSION
from tests.fixtures import tiny_bundle as tiny_bundle_module

_REPO = Path(__file__).resolve().parent.parent


def _cached_tiny_bundle(scratch: Path) -> Path:
    # The fixture's source and the writer it goes through (service/bundle.py) decide what it builds.
    source = b"".join(Path(str(m.__file__)).read_bytes() for m in (tiny_bundle_module, bundle_module))
    source += NORMALIZATION_VERSION.encode()
    key = hashlib.sha256(source).hexdigest()[:16]
    cached = Path(os.environ.get("TXC_TEST_CACHE", _REPO / ".cache")) / f"tiny-bundle-{key}"
    try:
        ModelBundle.load(cached)
        return cached
    except BundleError:
        pass
    built = tiny_bundle_module.build_tiny_bundle(scratch / "tiny")
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        staging = cached.with_name(cached.name + f".{os.getpid()}")
        shutil.copytree(built, staging, dirs_exist_ok=True)
        shutil.rmtree(cached, ignore_errors=True)
        staging.rename(cached)
        return cached
    except OSError:
        return built  # read-only checkout: use the scratch copy


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid bundle (random 2-layer BERT in ONNX, the 16 product labels). Treat it as read-only."""
    return _cached_tiny_bundle(tmp_path_factory.mktemp("bundles"))

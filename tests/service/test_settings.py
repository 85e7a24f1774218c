from __future__ import annotations

from pathlib import Path

import pytest

from service.settings import Settings, available_cores


def test_env_vars_with_the_prefix_set_fields(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TXC_MODEL_DIR", str(tmp_path))
    monkeypatch.setenv("TXC_MAX_BATCH_TOKENS", "1024")
    monkeypatch.setenv("TXC_MAX_WAIT_MS", "0")
    monkeypatch.setenv("TXC_JSON_LOGS", "false")
    settings = Settings()
    assert settings.model_dir == tmp_path
    assert settings.max_batch_tokens == 1024
    assert settings.max_wait_s == 0.0
    assert settings.json_logs is False


def test_defaults_run_one_single_threaded_lane_per_core() -> None:
    settings = Settings.defaults()
    assert settings.intra_op_threads == 1
    assert settings.lanes == available_cores()


def test_lanes_are_the_cores_the_batch_threads_leave(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("service.settings.available_cores", lambda: 8)
    assert Settings.defaults(intra_op_threads=2).lanes == 4
    assert Settings.defaults(intra_op_threads=3).lanes == 2
    assert Settings.defaults(intra_op_threads=16).lanes == 1
    assert Settings.defaults(intra_op_threads=2, engine_lanes=3).lanes == 3


def test_engine_lanes_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TXC_ENGINE_LANES", "3")
    assert Settings().lanes == 3
    monkeypatch.setenv("TXC_ENGINE_LANES", "0")
    with pytest.raises(ValueError, match="engine_lanes"):
        Settings()


def test_every_field_is_documented() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, f"{name} needs a description"


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TXC_MAX_BATCH_SIZE", "0")
    with pytest.raises(ValueError, match="max_batch_size"):
        Settings()


def test_library_defaults_read_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TXC_MAX_BATCH_TOKENS", "1024")
    monkeypatch.setenv("TXC_CACHE_SIZE", "7")
    defaults = Settings.defaults()
    assert defaults.max_batch_tokens == Settings.model_fields["max_batch_tokens"].default
    assert defaults.cache_size == Settings.model_fields["cache_size"].default
    assert Settings.defaults(cache_size=3).cache_size == 3
    assert isinstance(defaults, Settings)
    with pytest.raises(ValueError, match="max_batch_size"):
        Settings.defaults(max_batch_size=0)


def test_a_classifier_given_no_settings_ignores_the_environment(
    monkeypatch: pytest.MonkeyPatch, tiny_bundle: Path
) -> None:
    from service.classifier import Classifier

    monkeypatch.setenv("TXC_CACHE_SIZE", "0")
    monkeypatch.setenv("TXC_MAX_BATCH_SIZE", "3")
    classifier = Classifier.load(tiny_bundle)
    assert classifier.settings.max_batch_size == Settings.model_fields["max_batch_size"].default
    assert classifier.settings.cache_size == Settings.model_fields["cache_size"].default

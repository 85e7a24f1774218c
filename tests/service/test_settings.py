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


def test_defaults_follow_the_machine() -> None:
    assert Settings().intra_op_threads == available_cores()


def test_every_field_is_documented() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, f"{name} needs a description"


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TXC_MAX_BATCH_SIZE", "0")
    with pytest.raises(ValueError, match="max_batch_size"):
        Settings()

from __future__ import annotations

from pathlib import Path

import pytest

from training.config import DataConfig, LexicalConfig, StageContext, load_config

CONFIGS = Path(__file__).resolve().parents[2] / "training" / "configs"


def test_the_lexical_ngram_range_is_read_from_the_yaml(tmp_path: Path) -> None:
    path = tmp_path / "build.yaml"
    path.write_text("lexical:\n  enabled: true\n  min_n: 1\n  max_n: 5\n")
    lexical = load_config(path).lexical
    assert (lexical.enabled, lexical.min_n, lexical.max_n) == (True, 1, 5)
    assert (LexicalConfig().min_n, LexicalConfig().max_n) == (2, 4)


@pytest.mark.parametrize(("min_n", "max_n"), [(0, 4), (5, 4)])
def test_a_bad_ngram_range_is_refused(min_n: int, max_n: int) -> None:
    with pytest.raises(ValueError, match="lexical: min_n"):
        LexicalConfig(min_n=min_n, max_n=max_n)


@pytest.mark.parametrize("size", [0, -5])
def test_a_lexical_train_size_below_one_is_refused(size: int) -> None:
    with pytest.raises(ValueError, match="lexical: train_size"):
        LexicalConfig(train_size=size)


def test_the_v2_lexical_model_fits_on_more_rows_than_the_student(tmp_path: Path) -> None:
    config = load_config(CONFIGS / "v2.yaml")
    assert config.lexical.train_size is not None
    assert config.lexical.train_size > config.data.train_size


@pytest.mark.parametrize("name", ["v1.yaml", "v2.yaml", "tiny.yaml"])
def test_the_shipped_configs_load(name: str) -> None:
    assert load_config(CONFIGS / name).name


def test_the_stages_share_the_seed_and_work_dir_and_key_by_the_seed(tmp_path: Path) -> None:
    path = tmp_path / "build.yaml"
    path.write_text(f"seed: 3\nwork_dir: {tmp_path / 'work'}\n")
    config = load_config(path)
    assert config.stage == StageContext(seed=3, work_dir=tmp_path / "work")
    key = config.stage.key(config.data, config.teacher, "generator-v9")
    assert key == config.stage.key(config.data, config.teacher, "generator-v9")
    assert len(key) == 12
    assert key != StageContext(seed=4).key(config.data, config.teacher, "generator-v9")
    assert key != config.stage.key(DataConfig(train_size=7), config.teacher, "generator-v9")

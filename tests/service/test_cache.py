from __future__ import annotations

import pytest

from service.cache import ResultCache


def test_least_recently_used_entry_is_evicted() -> None:
    cache: ResultCache[int] = ResultCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)
    assert cache.get("b") is None
    assert cache.get("a") == 1
    assert cache.get("c") == 3
    assert (cache.hits, cache.misses) == (3, 1)


def test_size_zero_disables_the_cache() -> None:
    cache: ResultCache[int] = ResultCache(0)
    cache.put("a", 1)
    assert cache.get("a") is None
    assert len(cache) == 0


def test_negative_size_is_refused() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        ResultCache(-1)

"""Same text, same answer: under concurrent load, every result equals scoring that text alone."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import httpx

from service import Classifier
from service.settings import Settings
from tests.fixtures.tiny_bundle import VOCABULARY_WORDS
from tests.service.test_api import serving


def narrations(rng: random.Random, count: int) -> list[str]:
    """Varied lengths (1 to ~40 tokens) and digit runs, so batches mix lengths and padding."""
    texts = []
    for _ in range(count):
        words = rng.choices(VOCABULARY_WORDS, k=rng.randint(1, 12))
        if rng.random() < 0.5:
            words.insert(rng.randint(0, len(words)), str(rng.randint(0, 10 ** rng.randint(1, 9))))
        texts.append(" ".join(words).upper() if rng.random() < 0.3 else " ".join(words))
    return texts


async def test_100_concurrent_requests_match_scoring_each_text_alone(tiny_bundle: Path) -> None:
    rng = random.Random(7)
    pool = narrations(rng, 1500)
    requests = [rng.choices(pool, k=rng.randint(1, 300)) for _ in range(100)]
    # No cache: every item must really go through the batches. All 100 at once: admission by requests
    # in progress (a load-shedding limit, tested in tests/hardening) is set above that here.
    async with serving(tiny_bundle, cache_size=0, max_wait_ms=2.0, max_concurrent_requests=100) as (
        _,
        client,
    ):

        async def post(index: int, texts: list[str]) -> httpx.Response:
            payload = {
                "transactions": [{"id": f"r{index}-{i}", "text": text} for i, text in enumerate(texts)],
                "top_k": 2,
            }
            headers = {"X-Client-Id": f"client-{index % 4}"} if index % 2 else {}
            return await client.post("/v1/classify", json=payload, headers=headers, timeout=120)

        responses = await asyncio.gather(*(post(i, texts) for i, texts in enumerate(requests)))
    alone = Classifier.load(tiny_bundle, Settings(cache_size=0))
    reference = {text: alone.classify([text])[0] for text in set(pool)}
    compared = 0
    for index, (texts, response) in enumerate(zip(requests, responses, strict=True)):
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        assert [r["id"] for r in results] == [f"r{index}-{i}" for i in range(len(texts))]
        for text, result in zip(texts, results, strict=True):
            expected = reference[text]
            assert result["label"] == expected.label, text
            assert abs(result["confidence"] - expected.confidence) <= 1e-5, text
            runner_up = expected.top(2)[1]
            assert result["top_k"][1]["label"] == runner_up.label, text
            assert abs(result["top_k"][1]["confidence"] - runner_up.confidence) <= 1e-5, text
            compared += 1
    assert compared == sum(len(texts) for texts in requests)

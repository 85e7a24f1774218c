"""Benchmark ``Gazetteer.lookup``: microseconds per narration for a brand table of a given size.

    python -m loadtests.bench_gazetteer [--entries 20000] [--matching exact,compact] [--texts 10000]
                                        [--repeats 5]

Narrations come from the training generator (held-out test merchants). The table is synthetic: keys of
1-3 words drawn from the narrations' own words mixed with invented ones, so that most narration words
start some key and each lookup tries every n-gram it can (a pessimistic table). Prints one row per table
size and matching rule (``service.gazetteer.MATCHINGS``): match_key alone, lookup (match_key included),
and the share of narrations that got a hint. The best of ``--repeats`` runs is reported.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from service.gazetteer import MATCHINGS, Gazetteer, match_key
from training.data import sample_narrations
from training.labels import LABELS


def synthetic_table(
    size: int, narration_words: list[str], seed: int = 0, matching: str = MATCHINGS[0]
) -> Gazetteer:
    rng = random.Random(seed)
    invented = [f"{rng.choice('bcdfgklmnprstvz')}{rng.randrange(10**6):x}" for _ in range(size)]
    entries: dict[str, str] = {}
    while len(entries) < size:
        words = [
            rng.choice(narration_words) if rng.random() < 0.5 else rng.choice(invented)
            for _ in range(rng.choice((1, 1, 2, 2, 2, 3)))
        ]
        entries[" ".join(words)] = rng.choice(LABELS)
    return Gazetteer(entries, f"synthetic {size}", matching=matching)


def best_of(repeats: int, work: list[str], run: Callable[[str], object]) -> float:
    """Microseconds per item of the fastest of ``repeats`` passes over ``work``."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for text in work:
            run(text)
        best = min(best, time.perf_counter() - start)
    return best / len(work) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", default="1000,20000,100000", help="table sizes, comma-separated")
    parser.add_argument("--matching", default=",".join(MATCHINGS), help="matching rules, comma-separated")
    parser.add_argument("--texts", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    matchings = args.matching.split(",")
    unknown = sorted(set(matchings) - set(MATCHINGS))
    if unknown:
        parser.error(f"--matching: {', '.join(unknown)} not one of {', '.join(MATCHINGS)}")
    texts = [n.text for n in sample_narrations(args.texts, seed=0, split="test")]
    words = sorted({word for text in texts for word in match_key(text).split()})
    print(f"{len(texts)} generator narrations, {len(words)} distinct words")
    print(
        f"{'entries':>8} {'matching':>9} {'match_key us/text':>18} {'lookup us/text':>15} {'with hint':>10}"
    )
    key_us = best_of(args.repeats, texts, match_key)
    for size in (int(part) for part in args.entries.split(",")):
        for matching in matchings:
            table = synthetic_table(size, words, matching=matching)
            lookup_us = best_of(args.repeats, texts, table.lookup)
            hinted = sum(table.lookup(text) is not None for text in texts) / len(texts)
            print(f"{size:>8} {matching:>9} {key_us:>18.2f} {lookup_us:>15.2f} {hinted:>10.1%}")


if __name__ == "__main__":
    main()

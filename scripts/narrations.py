"""Synthetic bank narrations for the benchmark scripts (lengths and repeats like real statements).

The training data generator is richer; this stays here so the benchmarks need only the serving runtime.
"""

from __future__ import annotations

import random

__all__ = ["narrations"]

_MERCHANTS = (
    "STARBUCKS", "AMAZON MKTP", "UBER TRIP", "NETFLIX.COM", "SHELL OIL", "WALGREENS", "TESCO STORES",
    "JOES TACOS", "LUXE NAIL SALON", "ADEX PHARMACY", "DELTA AIR", "MARRIOTT", "COMCAST CABLE", "IRS TREAS",
    "ACME CORP PAYROLL", "ZELLE TO JOHN SMITH", "VENMO CASHOUT", "HOME DEPOT", "PLANET FITNESS", "AT&T",
)  # fmt: skip
_PREFIXES = ("POS PURCHASE", "DEBIT CARD", "ACH DEBIT", "ACH CREDIT", "SQ *", "TST*", "PAYPAL *", "", "")
_PLACES = ("SEATTLE WA", "LONDON GB", "LAGOS NG", "MUMBAI IN", "BERLIN DE", "AUSTIN TX", "")


def narrations(count: int, seed: int = 0, unique_share: float = 0.6) -> list[str]:
    """``count`` narrations; about ``unique_share`` of them distinct (statements repeat merchants)."""
    rng = random.Random(seed)
    distinct = max(1, int(count * unique_share))
    pool = []
    for _ in range(distinct):
        parts = [
            rng.choice(_PREFIXES),
            rng.choice(_MERCHANTS),
            f"#{rng.randint(100, 99999)}" if rng.random() < 0.6 else "",
            rng.choice(_PLACES),
            f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}" if rng.random() < 0.5 else "",
            f"REF {rng.randint(10**7, 10**12)}" if rng.random() < 0.3 else "",
        ]
        pool.append(" ".join(part for part in parts if part))
    return [pool[i % distinct] if i < distinct else rng.choice(pool) for i in range(count)]

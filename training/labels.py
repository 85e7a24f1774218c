"""The product's 16 spending categories, in the model's output order (defined once, here)."""

from __future__ import annotations

__all__ = ["LABELS", "LABEL_TO_ID", "label_id"]

#: Output order of every model this pipeline builds; ``labels.json`` in a bundle is this list.
LABELS: tuple[str, ...] = (
    "INCOME",
    "TRANSFER_IN",
    "TRANSFER_OUT",
    "LOAN_PAYMENTS",
    "BANK_FEES",
    "ENTERTAINMENT",
    "FOOD_AND_DRINK",
    "GENERAL_MERCHANDISE",
    "HOME_IMPROVEMENT",
    "MEDICAL",
    "PERSONAL_CARE",
    "GENERAL_SERVICES",
    "GOVERNMENT_AND_NON_PROFIT",
    "TRANSPORTATION",
    "TRAVEL",
    "RENT_AND_UTILITIES",
)

LABEL_TO_ID: dict[str, int] = {name: index for index, name in enumerate(LABELS)}


def label_id(name: str) -> int:
    """Return the output index of ``name``; raises ``KeyError`` naming the unknown label."""
    try:
        return LABEL_TO_ID[name]
    except KeyError:
        raise KeyError(f"unknown label {name!r}; expected one of {', '.join(LABELS)}") from None

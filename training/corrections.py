"""Score a bundle on corrections exported from production (``txclassify feedback export``).

``evaluate_corrections`` re-scores every row's text (and direction) with the bundle and tallies
agreement with the corrected label by the service's own rule (``service.feedback.agreement``). For the
bundle that served the rows this is the online agreement
(``txclassify_feedback_items_total``) recomputed offline, the same number on the same rows; for a
candidate it is how the candidate would have done on recent corrections. ``served`` is the agreement of
the answers recorded in the file, whatever bundle gave them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.classifier import Classifier
from service.feedback.agreement import Agreement
from service.feedback.export import ExportedRow, read_export

__all__ = ["CorrectionsReport", "evaluate_corrections", "format_report", "main_eval"]


@dataclass(frozen=True)
class CorrectionsReport:
    bundle: str  # name@version
    rows: int
    bundle_agreement: Agreement  # the bundle's answers now vs the corrected labels
    served_agreement: Agreement  # the recorded answers vs the corrected labels
    changed: int  # rows whose answer now differs from the recorded one

    def as_json(self) -> dict[str, Any]:
        return {
            "bundle": self.bundle,
            "rows": self.rows,
            "agreement": self.bundle_agreement.rate,
            "agreement_by_label": self.bundle_agreement.by_label(),
            "served_agreement": self.served_agreement.rate,
            "served_agreement_by_label": self.served_agreement.by_label(),
            "changed_answers": self.changed,
        }


def evaluate_corrections(classifier: Classifier, rows: Sequence[ExportedRow]) -> CorrectionsReport:
    predictions = (
        classifier.classify([r.text for r in rows], directions=[r.direction for r in rows]) if rows else []
    )
    bundle = classifier.bundle
    return CorrectionsReport(
        bundle=f"{bundle.name}@{bundle.version}",
        rows=len(rows),
        bundle_agreement=Agreement.of((r.label, p.label) for r, p in zip(rows, predictions, strict=True)),
        served_agreement=Agreement.of((r.label, r.predicted) for r in rows),
        changed=sum(1 for r, p in zip(rows, predictions, strict=True) if r.predicted != p.label),
    )


def format_report(report: CorrectionsReport) -> str:
    lines = [
        f"{report.bundle} on {report.rows} corrections: agreement {report.bundle_agreement.rate:.4f} "
        f"(served answers in the file: {report.served_agreement.rate:.4f}; {report.changed} answers differ)",
        f"{'label':<26} {'rows':>6} {'agreement':>10} {'served':>8}",
    ]
    served = report.served_agreement.by_label()
    for label, rate in report.bundle_agreement.by_label().items():
        rows = report.bundle_agreement.totals[label]
        lines.append(f"{label:<26} {rows:>6} {rate:>10.4f} {served[label]:>8.4f}")
    return "\n".join(lines)


def main_eval(bundle_dir: Path, csv_path: Path, json_path: Path | None) -> int:
    """``txclassify-train eval``: print the report; write it as JSON too when ``json_path`` is given."""
    classifier = Classifier.load(bundle_dir)
    report = evaluate_corrections(classifier, read_export(csv_path))
    print(format_report(report))
    if json_path is not None:
        json_path.write_text(json.dumps(report.as_json(), indent=2) + "\n", encoding="utf-8")
    return 0

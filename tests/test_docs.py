"""The docs against the code they describe: tables a reader copies from must match what runs."""

from __future__ import annotations

import re
from pathlib import Path

from loadtests.benchmark import ALL_ROWS
from loadtests.sla import load_sla

ROOT = Path(__file__).resolve().parents[1]


def _documents() -> list[Path]:
    return [ROOT / "README.md", ROOT / "loadtests" / "sla.yaml", *sorted((ROOT / "docs").glob("*.md"))]


def test_every_rejection_reason_the_service_counts_is_in_the_readme() -> None:
    emitted = {
        reason
        for path in (ROOT / "service").rglob("*.py")
        for reason in re.findall(r"\.rejected\(\"([a-z_]+)\"\)", path.read_text(encoding="utf-8"))
    }
    assert emitted, "no rejection reasons found in service/: the pattern is stale"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| `txclassify_rejected_total"))
    listed = set(re.findall(r"`([a-z_]+)`", row))
    assert emitted <= listed, f"README's metrics table misses {sorted(emitted - listed)}"


def test_the_sla_table_in_the_docs_is_the_default_profile() -> None:
    sla = load_sla()
    text = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    section = text.split("### The SLA (`loadtests/sla.yaml`)", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("| ")][1:]  # after the header
    documented: dict[str, str] = {}
    for line in rows:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) != 5 or cells[0] not in sla.classes:
            break
        documented[cells[0]] = cells[4]
    assert set(documented) == set(sla.classes)
    for request_class, limits in sla.classes.items():
        floor = documented[request_class]
        expected = "–" if limits.min_texts_per_s is None else f"{limits.min_texts_per_s:g}"
        assert floor == expected, f"{request_class}: docs say {floor} texts/s, sla.yaml {expected}"


def test_benchmark_commands_in_the_docs_name_rows_that_exist() -> None:
    for path in _documents():
        for rows in re.findall(r"loadtests\.benchmark[^\n`]*?--rows[ =]([\w,-]+)", path.read_text("utf-8")):
            unknown = set(rows.split(",")) - set(ALL_ROWS)
            assert not unknown, f"{path.name}: --rows {rows} names unknown rows {sorted(unknown)}"

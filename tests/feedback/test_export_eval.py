"""Online = offline: the agreement counters and ``txclassify-train eval`` on the export give one number."""

from __future__ import annotations

import json
from pathlib import Path

from service.cli import main as txclassify
from service.feedback.export import EXPORT_COLUMNS, read_export
from tests.feedback.test_store import T0, row
from tests.hardening.inprocess import running, settings_for
from training.cli import main as txclassify_train

TEXTS = [
    "POS TESCO STORES 3297 LONDON", "UBER TRIP HELP.UBER.COM", "ACME CORP PAYROLL", "NETFLIX.COM",
    "SHELL FUEL 0042", "ATM WITHDRAWAL 1234", "AMAZON MKTP US", "ZELLE FROM JOHN SMITH",
    "HOTEL IBIS PARIS", "MORTGAGE PAYMENT", "PHARMACY BOOTS 12", "AIRTIME TOPUP SAFARICOM",
]  # fmt: skip


def _agreement_counters(metrics: str) -> dict[str, dict[str, float]]:
    counts: dict[str, dict[str, float]] = {}
    for line in metrics.splitlines():
        if line.startswith("txclassify_feedback_items_total{"):
            labels, value = line.rsplit(" ", 1)
            fields = dict(part.split("=") for part in labels[labels.index("{") + 1 : -1].split(","))
            label, agreed = fields["label"].strip('"'), fields["agreed"].strip('"')
            counts.setdefault(label, {"true": 0.0, "false": 0.0})[agreed] += float(value)
    return counts


async def test_online_and_offline_agreement_are_the_same_number(
    tiny_bundle: Path, sqlite_dsn: str, tmp_path: Path
) -> None:
    async with running(settings_for(tiny_bundle, feedback_dsn=sqlite_dsn)) as (_, client):
        transactions = [
            {"id": f"t{i}", "text": text, "direction": "debit" if i % 3 else "credit"}
            for i, text in enumerate(TEXTS)
        ]
        served = (await client.post("/v1/classify", json={"transactions": transactions})).json()["results"]
        labels = (await client.get("/v1/models")).json()["models"][0]["labels"]
        # Every third correction confirms the served label; the others name another label.
        feedback = [
            {
                **t,
                "label": s["label"]
                if i % 3 == 0
                else labels[(labels.index(s["label"]) + 1 + i) % len(labels)],
            }
            for i, (t, s) in enumerate(zip(transactions, served, strict=True))
        ]
        assert (await client.post("/v1/feedback", json={"feedback": feedback[:7]})).status_code == 200
        # Never classified before: the served answer is recomputed, and the counters still agree.
        late = {"id": "late", "text": "VENMO PAYMENT TO ANNA", "label": labels[0]}
        assert (
            await client.post("/v1/feedback", json={"feedback": [*feedback[7:], late]})
        ).status_code == 200
        counters = _agreement_counters((await client.get("/metrics")).text)

    output = tmp_path / "corrections.csv"
    assert txclassify(["feedback", "export", "--dsn", sqlite_dsn, "--output", str(output)]) == 0
    assert output.read_text().splitlines()[0] == ",".join(EXPORT_COLUMNS)
    assert len(read_export(output)) == len(TEXTS) + 1
    report_path = tmp_path / "report.json"
    assert (
        txclassify_train(
            ["eval", "--bundle", str(tiny_bundle), "--csv", str(output), "--json", str(report_path)]
        )
        == 0
    )
    report = json.loads(report_path.read_text())

    total = sum(sum(c.values()) for c in counters.values())
    online = sum(c["true"] for c in counters.values()) / total
    assert total == len(TEXTS) + 1
    assert 0 < online < 1  # both outcomes present, so the comparison means something
    assert report["agreement"] == online
    assert report["served_agreement"] == online
    assert report["changed_answers"] == 0
    online_by_label = {label: c["true"] / (c["true"] + c["false"]) for label, c in counters.items()}
    assert report["agreement_by_label"] == dict(sorted(online_by_label.items()))


def test_export_since_and_round_trip(sqlite_dsn: str, tmp_path: Path) -> None:
    from datetime import timedelta

    from service.feedback.store import open_store

    store = open_store(sqlite_dsn)
    store.insert([row("old", at=T0), row("new", at=T0 + timedelta(days=2))])
    store.close()
    output = tmp_path / "f.csv"
    since = (T0 + timedelta(days=1)).isoformat()
    assert txclassify(["feedback", "export", "--dsn", sqlite_dsn, "-o", str(output), "--since", since]) == 0
    [exported] = read_export(output)
    assert (exported.id, exported.confidence, exported.created_at) == ("new", 0.625, T0 + timedelta(days=2))


def test_export_reads_as_training_data(sqlite_dsn: str, tmp_path: Path) -> None:
    from service.feedback.store import open_store
    from training.dataset import read_csv

    store = open_store(sqlite_dsn)
    store.insert([row("a")])
    store.close()
    output = tmp_path / "f.csv"
    assert txclassify(["feedback", "export", "--dsn", sqlite_dsn, "-o", str(output)]) == 0
    [labelled] = read_csv(output)
    assert (labelled.text, labelled.label, labelled.direction) == ("POS TESCO a", "FOOD_AND_DRINK", "debit")


def test_export_without_a_dsn_fails_with_one_line(tmp_path: Path) -> None:
    assert txclassify(["feedback", "export", "-o", str(tmp_path / "f.csv")]) == 1


def test_eval_refuses_a_file_that_is_not_an_export(tiny_bundle: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nuber,TRANSPORTATION\n")
    assert txclassify_train(["eval", "--bundle", str(tiny_bundle), "--csv", str(bad)]) == 1

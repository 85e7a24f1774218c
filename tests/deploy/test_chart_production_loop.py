"""The chart's production-loop values: feedback DSN from a Secret, the shadow bundle, alerts, egress."""

from __future__ import annotations

import json
import re
from typing import Any

from prometheus_client import CollectorRegistry

from service import metrics as service_metrics
from service.monitoring import PredictionMonitor, Reference
from tests.deploy.chart import REPO_ROOT, SERVICE_MONITOR_API, VALUE_SETS, find, render, render_raw

LOOP = VALUE_SETS["production-loop"].values


def _env(values: dict[str, Any], api_versions: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    deployment = render(values, api_versions=api_versions).one("Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {item["name"]: item for item in container["env"]}


def _exported() -> set[str]:
    registry = CollectorRegistry()
    service_metrics.ServiceMetrics(registry)
    registry.register(PredictionMonitor(("A",), Reference((1.0,)), window_items=100))
    names: set[str] = set()
    for family in registry.collect():
        names.add(family.name)
        names.update(family.name + suffix for suffix in ("_total", "_bucket", "_sum", "_count", "_created"))
    return names


def test_feedback_dsn_comes_from_the_secret_and_only_when_enabled() -> None:
    env = _env(dict(LOOP), (SERVICE_MONITOR_API,))
    assert env["TXC_FEEDBACK_DSN"]["valueFrom"]["secretKeyRef"] == {"name": "txc-feedback", "key": "dsn"}
    assert "value" not in env["TXC_FEEDBACK_DSN"]  # never the DSN itself in the pod spec
    assert "TXC_FEEDBACK_DSN" not in _env({})


def test_shadow_version_names_a_bundle_the_image_has() -> None:
    env = _env(dict(LOOP), (SERVICE_MONITOR_API,))
    shadow_dir = env["TXC_SHADOW_MODEL_DIR"]["value"]
    assert shadow_dir == "/opt/txclassify/models/txclassify-1.1.0"
    assert (REPO_ROOT / "models" / shadow_dir.rsplit("/", 1)[1] / "model_card.json").is_file()
    assert "TXC_SHADOW_MODEL_DIR" not in _env({})


def test_feedback_without_a_secret_is_refused_by_the_schema() -> None:
    result = render_raw({"feedback": {"enabled": True}})
    assert result.returncode != 0
    assert "feedback" in result.stderr


def test_alerts_query_only_exported_series_and_need_the_operator_api() -> None:
    rendered = render(dict(LOOP), api_versions=(SERVICE_MONITOR_API,))
    rule = rendered.one("PrometheusRule")
    expressions = [r["expr"] for group in rule["spec"]["groups"] for r in group["rules"]]
    assert {r["alert"] for group in rule["spec"]["groups"] for r in group["rules"]} == {
        "TxclassifyLabelDrift", "TxclassifyLowAgreement", "TxclassifyShadowDisagrees",
    }  # fmt: skip
    used = {name for expr in expressions for name in re.findall(r"\b(txclassify_[a-z_]+)", expr)}
    assert used
    assert used <= _exported()
    assert service_metrics.LABEL_DRIFT_PSI in used
    assert service_metrics.FEEDBACK_ITEMS_TOTAL in used
    assert not render(dict(LOOP)).of_kind("PrometheusRule")  # no operator API: nothing rendered


def test_egress_opens_only_for_the_store() -> None:
    policy = find(render(dict(LOOP), api_versions=(SERVICE_MONITOR_API,)).docs, "NetworkPolicy")
    ports = sorted((p["port"], p["protocol"]) for rule in policy["spec"]["egress"] for p in rule["ports"])
    assert ports == [(53, "TCP"), (53, "UDP"), (5432, "TCP")]
    closed = find(render({"networkPolicy": {"enabled": True}}).docs, "NetworkPolicy")
    assert closed["spec"]["egress"] == []


def test_dashboard_shows_the_loop() -> None:
    dashboard = json.loads((REPO_ROOT / "deploy/helm/txclassify/files/dashboard.json").read_text())
    text = json.dumps(dashboard)
    shown = (
        "FEEDBACK_ITEMS_TOTAL", "LABEL_DRIFT_PSI", "PREDICTIONS_TOTAL", "PREDICTION_CONFIDENCE",
        "SHADOW_ITEMS_TOTAL", "SHADOW_DISAGREEMENTS_TOTAL", "SHADOW_SECONDS", "FEEDBACK_COMMIT_SECONDS",
    )  # fmt: skip
    for constant in shown:
        assert getattr(service_metrics, constant) in text, constant
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))

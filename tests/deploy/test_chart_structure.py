"""Structural promises of the chart, checked against the service's own code (not retyped names).

Selectors select the server pods and nothing else; the HPA's metric is the one the prometheus-adapter
rules produce and the one the service exports; probes hit routes the app has; the grace period covers
preStop + graceful drain; the PDB lets a drain proceed; CPU requests = limits = ONNX Runtime threads.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry
from starlette.routing import Match

from service import metrics as service_metrics
from service.monitoring import PredictionMonitor, Reference
from service.settings import Settings
from tests.deploy.chart import KUBE_VERSIONS, REPO_ROOT, VALUE_SETS, Rendered, find, render

ADAPTER_VALUES = REPO_ROOT / "deploy" / "prometheus-adapter" / "values.yaml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
WORKLOAD_KINDS = {"Deployment", "Job"}


def _all_renders() -> list[tuple[str, str, Rendered]]:
    return [
        (name, version, render(spec.values, version, spec.api_versions))
        for name, spec in VALUE_SETS.items()
        for version in KUBE_VERSIONS
    ]


@pytest.fixture(scope="module")
def renders() -> list[tuple[str, str, Rendered]]:
    return _all_renders()


class AppRoutes:
    """Asks the real app's router whether it serves (method, path); building the app loads no model."""

    def __init__(self) -> None:
        from service.api import create_app

        self._app = create_app(Settings(model_dir=Path("/nonexistent-bundle")))

    def __contains__(self, method_and_path: object) -> bool:
        assert isinstance(method_and_path, tuple)
        method, path = method_and_path
        scope = {"type": "http", "method": method, "path": path, "root_path": "", "path_params": {}}
        # Starlette's own matching, so routers included in any way are seen as the server sees them.
        return any(route.matches(scope)[0] is Match.FULL for route in self._app.router.routes)


@pytest.fixture(scope="module")
def app_routes() -> AppRoutes:
    return AppRoutes()


def _pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = doc["spec"] if doc["kind"] == "Pod" else doc["spec"]["template"]["spec"]
    return spec


def _pod_labels(doc: dict[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = (doc if doc["kind"] == "Pod" else doc["spec"]["template"])["metadata"]["labels"]
    return labels


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item.get("value", "") for item in container.get("env", [])}


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def _adapter_rules() -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = yaml.safe_load(ADAPTER_VALUES.read_text())["rules"]["custom"]
    return rules


def _adapter_output_name(rule: dict[str, Any]) -> str:
    """The metric name prometheus-adapter serves for this rule (its `name.matches`/`as` on the series)."""
    series = re.match(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)", rule["seriesQuery"].strip("'\""))
    assert series, rule["seriesQuery"]
    pattern, replacement = rule["name"]["matches"], rule["name"].get("as", "")
    matched = re.search(pattern, series.group(1))
    assert matched, f"{pattern!r} does not match the series {series.group(1)}"
    return (
        matched.expand(re.sub(r"\$\{(\d+)\}", r"\\g<\1>", replacement)) if replacement else matched.group(0)
    )


_SERIES_SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "counter": ("_total",), "gauge": ("",)}


def _exported_sample_names() -> set[str]:
    """Every series name the service's registry can expose (labelled families have no samples yet)."""
    registry = CollectorRegistry()
    service_metrics.ServiceMetrics(registry)
    # The prediction monitor the app registers too (service/monitoring.py), with the reference that
    # makes it export the drift gauge.
    registry.register(PredictionMonitor(("A",), Reference((1.0,)), window_items=100))
    names = set()
    for family in registry.collect():
        names.add(family.name)
        names.update(family.name + suffix for suffix in _SERIES_SUFFIXES.get(family.type, ("",)))
    return names


# --- selectors ---------------------------------------------------------------------------------------


def test_selectors_select_the_server_pods_and_only_them(renders: list[tuple[str, str, Rendered]]) -> None:
    for name, version, rendered in renders:
        where = f"{name}@{version}"
        deployment = rendered.one("Deployment")
        selector = deployment["spec"]["selector"]["matchLabels"]
        pod_labels = _pod_labels(deployment)
        assert _matches(selector, pod_labels), where
        assert set(selector) == {"app.kubernetes.io/name", "app.kubernetes.io/instance"}, where
        assert rendered.one("Service")["spec"]["selector"] == selector, where
        for pdb in rendered.of_kind("PodDisruptionBudget"):
            assert pdb["spec"]["selector"]["matchLabels"] == selector, where
        for constraint in _pod_spec(deployment).get("topologySpreadConstraints", []):
            assert _matches(constraint["labelSelector"]["matchLabels"], pod_labels), where
        for monitor in rendered.of_kind("ServiceMonitor"):
            assert _matches(
                monitor["spec"]["selector"]["matchLabels"], rendered.one("Service")["metadata"]["labels"]
            )
        policies = rendered.of_kind("NetworkPolicy")
        server_policies = [
            p for p in policies if _matches(p["spec"]["podSelector"]["matchLabels"], pod_labels)
        ]
        assert len(server_policies) == (1 if policies else 0), f"{where}: one NetworkPolicy for the server"
        # The test pod and bulk-scoring pods must stay out of the Service, the PDB and the HPA's metrics.
        for doc in rendered.docs:
            if doc["kind"] in {"Pod", "Job"}:
                assert not _matches(selector, _pod_labels(doc)), (
                    f"{where}: {doc['kind']} matches the server selector"
                )


def test_autoscalers_target_the_deployment(renders: list[tuple[str, str, Rendered]]) -> None:
    for name, version, rendered in renders:
        deployment = rendered.one("Deployment")
        autoscalers = rendered.of_kind("HorizontalPodAutoscaler") + rendered.of_kind("ScaledObject")
        assert len(autoscalers) <= 1, (
            f"{name}: the HPA and a ScaledObject must not both manage the Deployment"
        )
        for scaler in autoscalers:
            target = scaler["spec"]["scaleTargetRef"]
            assert (target["apiVersion"], target["kind"]) == ("apps/v1", "Deployment"), name
            assert target["name"] == deployment["metadata"]["name"], name
        # No `replicas` when an autoscaler owns the count: a `helm upgrade` would reset it otherwise.
        assert ("replicas" in deployment["spec"]) == (not autoscalers), f"{name}@{version}"


# --- the autoscaling signal --------------------------------------------------------------------------


def test_hpa_metric_is_the_adapter_output_and_the_service_export() -> None:
    rendered = render({"autoscaling": {"pendingItems": {"enabled": True}}})
    hpa = rendered.one("HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    hpa_metrics = [m["pods"]["metric"]["name"] for m in hpa["spec"]["metrics"] if m["type"] == "Pods"]
    assert len(hpa_metrics) == len(hpa["spec"]["metrics"]) == 2, "both metrics are per-pod (type Pods)"
    for metric in hpa["spec"]["metrics"]:
        assert metric["pods"]["target"]["type"] == "AverageValue", "Pods metrics take only AverageValue"

    rules = {_adapter_output_name(rule): rule for rule in _adapter_rules()}
    assert set(hpa_metrics) <= set(rules), f"HPA reads {hpa_metrics}, adapter serves {sorted(rules)}"

    queue_wait = service_metrics.QUEUE_WAIT_SECONDS
    assert hpa_metrics[0] == queue_wait, "the primary metric is the service's queue-wait histogram"
    wait_rule = rules[queue_wait]
    exported = _exported_sample_names()
    for series in (f"{queue_wait}_sum", f"{queue_wait}_count"):
        assert series in exported, f"the service does not export {series}"
        assert series in wait_rule["metricsQuery"], f"the adapter rule does not read {series}"
    # Mean = rate(sum) / rate(count) with a clamped denominator: 0 when idle, never NaN.
    assert "clamp_min(" in wait_rule["metricsQuery"]
    assert "histogram_quantile" not in wait_rule["metricsQuery"]
    assert "[1m]" in wait_rule["metricsQuery"]

    pending_rule = rules[hpa_metrics[1]]
    for gauge in (service_metrics.QUEUE_ITEMS, service_metrics.INFLIGHT_ITEMS):
        assert gauge in exported, f"the service does not export {gauge}"
        assert f"{gauge}{{" in pending_rule["metricsQuery"], f"the second rule does not read {gauge}"
    for rule in rules.values():
        assert rule["resources"]["overrides"]["pod"]["resource"] == "pod", "rules must map to pods"
        assert "<<.LabelMatchers>>" in rule["metricsQuery"]
        assert "<<.GroupBy>>" in rule["metricsQuery"]


def test_hpa_scales_up_fast_and_down_slowly() -> None:
    hpa = render({}).one("HorizontalPodAutoscaler")
    spec = hpa["spec"]
    assert spec["minReplicas"] >= 1
    assert spec["maxReplicas"] >= spec["minReplicas"]
    up, down = spec["behavior"]["scaleUp"], spec["behavior"]["scaleDown"]
    assert up["stabilizationWindowSeconds"] == 0
    assert down["stabilizationWindowSeconds"] >= 300
    assert max(p["value"] for p in up["policies"] if p["type"] == "Pods") > max(
        p["value"] for p in down["policies"] if p["type"] == "Pods"
    )


def test_one_target_value_drives_hpa_and_keda() -> None:
    values = yaml.safe_load((REPO_ROOT / "deploy/helm/txclassify/values.yaml").read_text())
    target_ms = values["autoscaling"]["targetQueueWaitMilliseconds"]
    hpa = render({}).one("HorizontalPodAutoscaler")
    assert hpa["spec"]["metrics"][0]["pods"]["target"]["averageValue"] == f"{target_ms}m"
    scaled = render(VALUE_SETS["keda"].values).one("ScaledObject")
    trigger = scaled["spec"]["triggers"][0]
    assert trigger["metricType"] == "Value"
    assert float(trigger["metadata"]["threshold"]) == pytest.approx(target_ms / 1000)
    query = trigger["metadata"]["query"]
    wait = service_metrics.QUEUE_WAIT_SECONDS
    assert f"{wait}_sum{{" in query
    assert f"{wait}_count{{" in query
    assert "clamp_min(" in query
    assert query.endswith("or vector(0)"), "an empty result (no pods scraped yet) must read 0"


def test_dashboard_uses_only_exported_metrics() -> None:
    rendered = render({})
    dashboard = find(rendered.docs, "ConfigMap", "-dashboard")
    text = next(iter(dashboard["data"].values()))
    used = set(re.findall(r"\b(txclassify_[a-z_]+)", text))
    exported = _exported_sample_names()
    unknown = {name for name in used if name not in exported}
    assert not unknown, f"dashboard queries series the service does not export: {sorted(unknown)}"
    for needed in (
        service_metrics.QUEUE_WAIT_SECONDS,
        service_metrics.BATCH_SIZE,
        service_metrics.REJECTED_TOTAL,
    ):
        assert needed in text


# --- probes, shutdown, resources ---------------------------------------------------------------------


def test_probes_hit_real_routes(renders: list[tuple[str, str, Rendered]], app_routes: AppRoutes) -> None:
    for name, version, rendered in renders:
        container = _pod_spec(rendered.one("Deployment"))["containers"][0]
        port_names = {port["name"] for port in container["ports"]}
        for probe_key in ("startupProbe", "readinessProbe", "livenessProbe"):
            probe = container[probe_key]["httpGet"]
            assert ("GET", probe["path"]) in app_routes, f"{name}@{version}: {probe_key} on a missing route"
            assert probe["port"] in port_names
        assert container["startupProbe"]["httpGet"]["path"] == container["readinessProbe"]["httpGet"]["path"]
        startup = container["startupProbe"]
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 120, (
            "startup probe must cover model load"
        )
        service_port = rendered.one("Service")["spec"]["ports"][0]
        assert service_port["targetPort"] in port_names
    assert ("POST", "/v1/classify") in app_routes
    assert ("GET", "/metrics") in app_routes
    assert ("GET", "/no-such-route") not in app_routes, "the route check must be able to fail"


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
@pytest.mark.parametrize(
    "server", [{}, {"preStopSleepSeconds": 20, "gracefulTimeoutSeconds": 90, "terminationMarginSeconds": 10}]
)
def test_grace_period_covers_prestop_and_drain(server: dict[str, int], kube_version: str) -> None:
    pod = _pod_spec(render({"server": server}, kube_version).one("Deployment"))
    container = pod["containers"][0]
    pre_stop = container["lifecycle"]["preStop"]
    if "sleep" in pre_stop:
        sleep_s = int(pre_stop["sleep"]["seconds"])
    else:
        command = pre_stop["exec"]["command"]
        assert command[0] == "sleep"
        sleep_s = int(command[1])
    assert sleep_s > 0
    drain_s = float(_env(container)["TXC_GRACEFUL_TIMEOUT_S"])
    assert pod["terminationGracePeriodSeconds"] > sleep_s + drain_s, "needs a margin after preStop + drain"


def test_cpu_requests_equal_limits_equal_lanes_times_onnx_threads(
    renders: list[tuple[str, str, Rendered]],
) -> None:
    settings_fields = {f"TXC_{field.upper()}" for field in Settings.model_fields}
    for name, _version, rendered in renders:
        for doc in rendered.docs:
            if doc["kind"] not in WORKLOAD_KINDS:
                continue
            container = _pod_spec(doc)["containers"][0]
            resources, env = container["resources"], _env(container)
            cores = int(env["TXC_ENGINE_LANES"]) * int(env["TXC_INTRA_OP_THREADS"])
            assert resources["requests"]["cpu"] == resources["limits"]["cpu"] == str(cores), name
            assert resources["requests"]["memory"] == resources["limits"]["memory"], name
            unknown = {key for key in env if key.startswith("TXC_")} - settings_fields
            assert not unknown, f"{name}: env vars the service does not read: {unknown}"


def test_pdb_always_allows_a_disruption(renders: list[tuple[str, str, Rendered]]) -> None:
    for name, _version, rendered in renders:
        deployment = rendered.one("Deployment")
        scalers = rendered.of_kind("HorizontalPodAutoscaler") + rendered.of_kind("ScaledObject")
        if scalers:
            spec = scalers[0]["spec"]
            fewest = spec.get("minReplicas", spec.get("minReplicaCount"))
        else:
            fewest = deployment["spec"]["replicas"]
        for pdb in rendered.of_kind("PodDisruptionBudget"):
            spec = pdb["spec"]
            if "maxUnavailable" in spec:
                assert int(spec["maxUnavailable"]) >= 1, name
            else:
                assert int(spec["minAvailable"]) < fewest, f"{name}: minAvailable blocks every eviction"


# --- security and the image ----------------------------------------------------------------------------


def test_every_pod_is_locked_down(renders: list[tuple[str, str, Rendered]]) -> None:
    dockerfile_user = re.search(r"^USER (\d+):(\d+)$", DOCKERFILE.read_text(), re.MULTILINE)
    assert dockerfile_user, "the Dockerfile must set a numeric USER"
    for name, _version, rendered in renders:
        for doc in rendered.docs:
            if doc["kind"] not in {"Deployment", "Job", "Pod"}:
                continue
            pod = _pod_spec(doc)
            assert pod["automountServiceAccountToken"] is False, name
            assert pod["securityContext"]["runAsNonRoot"] is True
            assert pod["securityContext"]["runAsUser"] == int(dockerfile_user.group(1))
            assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
            for container in pod["containers"]:
                security = container["securityContext"]
                assert security["readOnlyRootFilesystem"] is True
                assert security["allowPrivilegeEscalation"] is False
                assert security["capabilities"]["drop"] == ["ALL"]
            if doc["kind"] != "Pod":  # the server and the Job write temp files; the test pod does not
                mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
                volumes = {v["name"]: v for v in pod["volumes"]}
                assert "emptyDir" in volumes[mounts["/tmp"]], f"{name}: /tmp must be an emptyDir"


def test_model_bundle_is_selected_by_value() -> None:
    dockerfile = DOCKERFILE.read_text()
    values = yaml.safe_load((REPO_ROOT / "deploy/helm/txclassify/values.yaml").read_text())
    models_dir = values["model"]["modelsDir"]
    assert re.search(rf"^COPY models/ {re.escape(models_dir)}/?$", dockerfile, re.MULTILINE), (
        "the chart's model.modelsDir must be where the Dockerfile puts the bundles"
    )
    index = json.loads((REPO_ROOT / "models" / "index.json").read_text())
    versions = [bundle["version"] for bundle in index["bundles"]]
    assert len(versions) >= 2, "the previous bundle must stay selectable for rollback"
    for version in versions:
        rendered = render({"model": {"version": version}, "bulkScore": {"enabled": True}})
        for doc in rendered.docs:
            if doc["kind"] in WORKLOAD_KINDS:
                env = _env(_pod_spec(doc)["containers"][0])
                assert env["TXC_MODEL_DIR"] == f"{models_dir}/txclassify-{version}"


def test_chart_and_image_default_to_the_indexed_default_bundle() -> None:
    index = json.loads((REPO_ROOT / "models" / "index.json").read_text())
    values = yaml.safe_load((REPO_ROOT / "deploy/helm/txclassify/values.yaml").read_text())
    chart_default = f"{values['model']['name']}-{values['model']['version']}"
    image_default = re.search(r"^ARG DEFAULT_BUNDLE=(\S+)$", DOCKERFILE.read_text(), re.MULTILINE)
    assert image_default is not None
    assert chart_default == image_default.group(1) == index["default"]
    # Rollback is a pin: every indexed bundle is baked into the image (COPY models/).
    assert {b["path"] for b in index["bundles"]} >= {index["default"]}
    assert len(index["bundles"]) >= 2, "the previous bundle must stay shipped for rollback"


def test_helm_test_pod_classifies_through_the_service(app_routes: AppRoutes) -> None:
    rendered = render({})
    pod = rendered.one("Pod")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    env = _env(pod["spec"]["containers"][0])
    service = rendered.one("Service")
    url = f"http://{service['metadata']['name']}.{service['metadata']['namespace']}.svc:"
    url += f"{service['spec']['ports'][0]['port']}/v1/classify"
    assert env["TXC_TEST_URL"] == url
    assert ("POST", "/v1/classify") in app_routes


def test_bulk_score_job_is_indexed_and_off_by_default() -> None:
    assert not render({}).of_kind("Job")
    job = render({"bulkScore": {"enabled": True, "shards": 3}}).one("Job")
    assert job["spec"]["completionMode"] == "Indexed"
    assert job["spec"]["completions"] == 3
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["args"][0] == "score"
    assert "--output" in container["args"]
    assert all("$(SHARD_INDEX)" in arg for arg in (container["args"][1], container["args"][3]))
    shard_index = next(e for e in container["env"] if e["name"] == "SHARD_INDEX")
    assert shard_index["valueFrom"]["fieldRef"]["fieldPath"] == (
        "metadata.annotations['batch.kubernetes.io/job-completion-index']"
    )

"""The chart lints, renders for every value set, and each document is valid Kubernetes (1.29 and 1.33).

Core kinds are validated with kubernetes-validate's strict schemas (unknown fields are errors, and a
missing schema is an error too). The two CRD kinds have no schema there; their required fields are
checked here by hand.
"""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.deploy.chart import CHART_DIR, KUBE_VERSIONS, VALUE_SETS, helm, render, render_raw

CRD_KINDS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
    ("keda.sh/v1alpha1", "ScaledObject"),
}


def test_helm_lint_strict_for_every_value_set(tmp_path: Any) -> None:
    for name, value_set in VALUE_SETS.items():
        values_file = tmp_path / f"{name}.yaml"
        values_file.write_text(yaml.safe_dump(dict(value_set.values)))
        result = helm("lint", "--strict", str(CHART_DIR), "--values", str(values_file))
        assert result.returncode == 0, (
            f"helm lint --strict failed for {name}:\n{result.stdout}{result.stderr}"
        )


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_every_rendered_document_is_valid(value_set: str, kube_version: str) -> None:
    spec = VALUE_SETS[value_set]
    rendered = render(spec.values, kube_version, spec.api_versions)
    kinds = {doc["kind"] for doc in rendered.docs}
    assert spec.expect_kinds <= kinds, f"{value_set}: missing {spec.expect_kinds - kinds}"
    for doc in rendered.docs:
        where = f"{value_set}@{kube_version}: {doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        if (doc["apiVersion"], doc["kind"]) in CRD_KINDS:
            _check_crd(doc)
            continue
        try:
            kubernetes_validate.validate(doc, kube_version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{where} invalid: {error}")
        except kubernetes_validate.SchemaNotFoundError as error:
            pytest.fail(f"{where}: no schema, not a known core kind: {error}")


def _check_crd(doc: dict[str, Any]) -> None:
    spec = doc["spec"]
    if doc["kind"] == "PrometheusRule":
        rules = [rule for group in spec["groups"] for rule in group["rules"]]
        assert rules, "PrometheusRule needs rules"
        for rule in rules:
            assert rule["alert"]
            assert rule["expr"].strip()
            assert rule["labels"]["severity"] in {"info", "warning", "critical"}
        return
    if doc["kind"] == "ServiceMonitor":
        assert spec["selector"]["matchLabels"], "ServiceMonitor must select the Service"
        assert spec["endpoints"], "ServiceMonitor needs endpoints"
        for endpoint in spec["endpoints"]:
            assert endpoint["port"]
            assert endpoint["path"].startswith("/")
            assert endpoint["interval"].endswith("s")
    else:
        assert spec["scaleTargetRef"]["name"]
        assert spec["minReplicaCount"] >= 1, "scale-from-zero cannot work on a metric the pods export"
        assert spec["maxReplicaCount"] >= spec["minReplicaCount"]
        assert spec["triggers"], "ScaledObject needs triggers"
        for trigger in spec["triggers"]:
            assert trigger["type"] == "prometheus"
            assert trigger["metricType"] in {"Value", "AverageValue"}
            metadata = trigger["metadata"]
            assert metadata["serverAddress"].startswith("http")
            assert metadata["query"]
            float(metadata["threshold"])  # KEDA parses it as a float string
            assert all(isinstance(value, str) for value in metadata.values()), "KEDA metadata is strings"


_KEY = "0123456789abcdef0123"  # a well-formed API key, for the cases that break something else

# (values, a fragment of the error) — each must be refused by `helm template` (so also install/lint).
BAD_VALUES: dict[str, tuple[dict[str, Any], str]] = {
    "hpa-and-keda": ({"keda": {"enabled": True}}, "/autoscaling/enabled"),
    "min-replicas-zero": ({"autoscaling": {"minReplicas": 0}}, "/autoscaling/minReplicas"),
    "max-below-min": ({"autoscaling": {"minReplicas": 5, "maxReplicas": 2}}, "maxReplicas"),
    "unknown-key": ({"replicas": 3}, "additional properties"),
    "threads-not-integer": ({"server": {"intraOpThreads": "two"}}, "/server/intraOpThreads"),
    "threads-zero": ({"server": {"intraOpThreads": 0}}, "/server/intraOpThreads"),
    "cpus-zero": ({"server": {"cpus": 0}}, "/server/cpus"),
    "threads-not-dividing-cpus": (
        {"server": {"cpus": 3, "intraOpThreads": 2}},
        "multiple of server.intraOpThreads",
    ),
    "lanes-in-env": (
        {"server": {"env": {"TXC_ENGINE_LANES": "4"}}},
        "invalid propertyName 'TXC_ENGINE_LANES'",
    ),
    "writable-root": ({"securityContext": {"readOnlyRootFilesystem": False}}, "readOnlyRootFilesystem"),
    "privilege-escalation": (
        {"securityContext": {"allowPrivilegeEscalation": True}},
        "allowPrivilegeEscalation",
    ),
    "root-pod": ({"podSecurityContext": {"runAsNonRoot": False}}, "/podSecurityContext/runAsNonRoot"),
    "model-version-latest": ({"model": {"version": "latest"}}, "/model/version"),
    "bad-digest": ({"image": {"digest": "sha256:abc"}}, "/image/digest"),
    "derived-env-overridden": ({"server": {"env": {"TXC_MODEL_DIR": "/elsewhere"}}}, "TXC_MODEL_DIR"),
    "env-without-prefix": ({"server": {"env": {"MODEL_DIR": "/x"}}}, "MODEL_DIR"),
    "pdb-both-bounds": ({"podDisruptionBudget": {"minAvailable": 1}}, "/podDisruptionBudget"),
    "pdb-no-bound": ({"podDisruptionBudget": {"maxUnavailable": ""}}, "/podDisruptionBudget"),
    "zero-wait-target": ({"autoscaling": {"targetQueueWaitMilliseconds": 0}}, "targetQueueWaitMilliseconds"),
    "keda-bad-address": (
        {"autoscaling": {"enabled": False}, "keda": {"enabled": True, "serverAddress": "prometheus:9090"}},
        "/keda/serverAddress",
    ),
    "auth-without-keys": ({"auth": {"enabled": True}}, "/auth/apiKeys"),
    "auth-secret-and-keys": (
        {"auth": {"enabled": True, "existingSecret": "mine", "apiKeys": [_KEY]}},
        "/auth/apiKeys",
    ),
    "auth-short-key": ({"auth": {"enabled": True, "apiKeys": ["short"]}}, "/auth/apiKeys/0"),
    "auth-key-is-a-comment": ({"auth": {"enabled": True, "apiKeys": ["#" + _KEY]}}, "/auth/apiKeys/0"),
    "auth-key-with-space": ({"auth": {"enabled": True, "apiKeys": [_KEY + " x"]}}, "/auth/apiKeys/0"),
    "auth-probe-path-closed": ({"auth": {"openPaths": ["/healthz", "/metrics"]}}, "/auth/openPaths"),
    "auth-relative-open-path": (
        {"auth": {"openPaths": ["healthz", "/healthz", "/readyz"]}},
        "/auth/openPaths/0",
    ),
    "auth-open-paths-string": ({"auth": {"openPaths": "/healthz,/readyz"}}, "/auth/openPaths"),
    "auth-unknown-key": ({"auth": {"keys": [_KEY]}}, "/auth"),
    "api-keys-in-env": ({"server": {"env": {"TXC_API_KEYS": _KEY}}}, "TXC_API_KEYS"),
    "scale-down-policy-type": (
        {
            "autoscaling": {
                "behavior": {"scaleDown": {"policies": [{"type": "Nodes", "value": 1, "periodSeconds": 60}]}}
            }
        },
        "/autoscaling/behavior/scaleDown/policies/0/type",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_VALUES))
def test_bad_values_are_rejected(case: str) -> None:
    values, fragment = BAD_VALUES[case]
    result = render_raw(values)
    assert result.returncode != 0, f"{case}: bad values were accepted"
    assert fragment in result.stderr, f"{case}: error does not name {fragment!r}:\n{result.stderr}"


def test_servicemonitor_needs_the_api_even_when_enabled() -> None:
    rendered = render({"metrics": {"serviceMonitor": {"enabled": True}}})
    assert not rendered.of_kind("ServiceMonitor"), "rendered a ServiceMonitor for a cluster without the CRD"


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_client_side_install_renders_notes(value_set: str, tmp_path: Any) -> None:
    spec = VALUE_SETS[value_set]
    values_file = tmp_path / "values.yaml"
    values_file.write_text(yaml.safe_dump(dict(spec.values)))
    # `helm install` has no --api-versions: the CRD-guarded ServiceMonitor is simply not rendered here.
    args = ["install", "txc", str(CHART_DIR), "--namespace", "txclassify", "--dry-run=client"]
    result = helm(*args, "--values", str(values_file))
    assert result.returncode == 0, result.stderr
    notes = result.stdout.split("NOTES:", 1)[1]
    assert "rollout status deployment/txc-txclassify" in notes
    assert "helm rollback txc" in notes


def test_kube_version_below_125_is_refused() -> None:
    result = helm("template", "txc", str(CHART_DIR), "--kube-version", "1.24.0")
    assert result.returncode != 0
    assert ">=1.25.0-0" in result.stderr

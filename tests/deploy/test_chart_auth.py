"""API-key authentication in the chart, checked against the service's own auth code.

The rendered Secret is written to a file and read by the server's real ``ApiKeys``; the rendered env is
given to the real app (``create_app``, no model loaded) so that probes, scraping and keyed requests are
answered by the real middleware; the `helm test` script runs against that app over HTTP.
"""

from __future__ import annotations

import asyncio
import base64
import http.server
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from service.api import create_app
from service.api.auth import ApiKeys
from service.settings import Settings
from tests.deploy.chart import VALUE_SETS, Rendered, render

AUTH_KEYS: list[str] = list(VALUE_SETS["auth"].values["auth"]["apiKeys"])
EXISTING = {"auth": {"enabled": True, "existingSecret": "team-keys", "existingSecretKey": "keys.txt"}}
PROBES = ("startupProbe", "readinessProbe", "livenessProbe")


def _server(rendered: Rendered) -> dict[str, Any]:
    container: dict[str, Any] = rendered.one("Deployment")["spec"]["template"]["spec"]["containers"][0]
    return container


def _env(container: dict[str, Any]) -> dict[str, str]:
    # Variables taken from a Secret (valueFrom, e.g. the feedback DSN) carry no literal value.
    return {item["name"]: item["value"] for item in container.get("env", []) if "value" in item}


def _key_file(pod_spec: dict[str, Any], container: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(the key path the container's env names, the secret volume source it lies on), checked to agree."""
    path = _env(container)["TXC_API_KEYS_FILE"]
    mounts = [m for m in container["volumeMounts"] if path.startswith(m["mountPath"].rstrip("/") + "/")]
    assert len(mounts) == 1, f"{path} is on {len(mounts)} mounts"
    assert mounts[0]["readOnly"] is True
    volume = next(v for v in pod_spec["volumes"] if v["name"] == mounts[0]["name"])
    source: dict[str, Any] = volume["secret"]
    relative = path[len(mounts[0]["mountPath"].rstrip("/")) + 1 :]
    assert [item["path"] for item in source["items"]] == [relative], "the env names the projected file"
    assert source["optional"] is False, "a missing Secret must keep the pod from starting"
    return path, source


def _secret_file(rendered: Rendered, source: dict[str, Any]) -> str:
    secret = rendered.one("Secret")
    assert secret["metadata"]["name"] == source["secretName"]
    data: str = secret["data"][source["items"][0]["key"]]
    return base64.b64decode(data).decode()


def test_auth_is_off_by_default() -> None:
    rendered = render({})
    assert not rendered.of_kind("Secret")
    deployment = rendered.one("Deployment")
    for pod_spec in (deployment["spec"]["template"]["spec"], rendered.one("Pod")["spec"]):
        env = _env(pod_spec["containers"][0])
        assert not {"TXC_API_KEYS_FILE", "TXC_AUTH_OPEN_PATHS"} & set(env)
        assert not [v for v in pod_spec.get("volumes", []) if "secret" in v]
    assert "checksum/api-keys" not in deployment["spec"]["template"]["metadata"]["annotations"]


@pytest.mark.parametrize("values", [VALUE_SETS["auth"].values, EXISTING], ids=["chart-secret", "existing"])
def test_server_and_test_pod_mount_the_same_key_file(values: dict[str, Any]) -> None:
    rendered = render(values)
    deployment, test_pod = rendered.one("Deployment"), rendered.one("Pod")
    pod_spec = deployment["spec"]["template"]["spec"]
    server_path, server_source = _key_file(pod_spec, _server(rendered))
    test_path, test_source = _key_file(test_pod["spec"], test_pod["spec"]["containers"][0])
    assert (server_path, server_source) == (test_path, test_source)
    assert server_path == "/etc/txclassify/secrets/api-keys"
    mode = server_source["defaultMode"]
    assert mode & 0o007 == 0, f"key file mode {oct(mode)}: readable by others"
    assert mode & 0o222 == 0, f"key file mode {oct(mode)}: writable"
    # Secret files are root-owned with group fsGroup: the non-root user reads them through the group.
    assert mode & 0o040, f"key file mode {oct(mode)}: the group (fsGroup) cannot read it"
    assert pod_spec["securityContext"]["fsGroup"] == pod_spec["securityContext"]["runAsGroup"]
    if "existingSecret" in values["auth"]:
        assert not rendered.of_kind("Secret"), "an existing Secret must not be rendered over"
        assert server_source["secretName"] == "team-keys"
        assert server_source["items"][0]["key"] == "keys.txt"
        assert "checksum/api-keys" not in deployment["spec"]["template"]["metadata"]["annotations"]
    else:
        assert _secret_file(rendered, server_source).splitlines() == AUTH_KEYS


def test_chart_secret_is_read_by_the_server_auth_code(tmp_path: Path) -> None:
    rendered = render(VALUE_SETS["auth"].values)
    _, source = _key_file(rendered.one("Deployment")["spec"]["template"]["spec"], _server(rendered))
    key_file = tmp_path / "api-keys"
    key_file.write_text(_secret_file(rendered, source))
    keys = ApiKeys.from_settings(Settings(api_keys_file=key_file))
    assert keys is not None
    assert all(keys.accepts(key) for key in AUTH_KEYS)
    assert not keys.accepts(AUTH_KEYS[0] + "x")


def test_key_change_rolls_the_pods() -> None:
    def checksum(keys: list[str]) -> str:
        values = {"auth": {"enabled": True, "apiKeys": keys}}
        value: str = render(values).one("Deployment")["spec"]["template"]["metadata"]["annotations"][
            "checksum/api-keys"
        ]
        return value

    first = checksum(AUTH_KEYS)
    assert first == checksum(list(AUTH_KEYS))
    assert first != checksum(AUTH_KEYS[:1])
    assert first != checksum([*AUTH_KEYS, "another-key-2222222222"])
    assert len(first) == 64


def _call(app: FastAPI, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> httpx.Response:
    """One request to the app in process. No lifespan runs, so no model is loaded."""

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://txc") as client:
            return await client.request(method, path, headers=headers, content=body)

    return asyncio.run(call())


@dataclass
class _App:
    """The real app configured from the rendered container env and key file (no model loaded)."""

    app: FastAPI
    open_paths: set[str] = field(default_factory=set)


@pytest.fixture
def keyed_app(tmp_path: Path) -> _App:
    rendered = render(VALUE_SETS["auth"].values)
    path, source = _key_file(rendered.one("Deployment")["spec"]["template"]["spec"], _server(rendered))
    key_file = tmp_path / "api-keys"
    key_file.write_text(_secret_file(rendered, source))
    env = _env(_server(rendered))
    assert env["TXC_API_KEYS_FILE"] == path
    settings = Settings(
        model_dir=Path("/nonexistent-bundle"),
        api_keys_file=key_file,
        auth_open_paths=env["TXC_AUTH_OPEN_PATHS"],
    )
    return _App(create_app(settings), set(env["TXC_AUTH_OPEN_PATHS"].split(",")))


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_probe_and_scrape_paths_are_open(value_set: str) -> None:
    values = dict(VALUE_SETS[value_set].values)
    values["auth"] = {**values.get("auth", {}), "enabled": True, "apiKeys": AUTH_KEYS}
    rendered = render(values, api_versions=VALUE_SETS[value_set].api_versions)
    server = _server(rendered)
    open_paths = set(_env(server)["TXC_AUTH_OPEN_PATHS"].split(","))
    probe_paths = {server[probe]["httpGet"]["path"] for probe in PROBES}
    assert probe_paths <= open_paths, f"{value_set}: probes on {probe_paths - open_paths} would get 401"
    annotations = rendered.one("Deployment")["spec"]["template"]["metadata"]["annotations"]
    scraped = {annotations["prometheus.io/path"]} if "prometheus.io/path" in annotations else set()
    scraped |= {e["path"] for m in rendered.of_kind("ServiceMonitor") for e in m["spec"]["endpoints"]}
    assert scraped <= open_paths, f"{value_set}: scraping {scraped - open_paths} would get 401"


def test_real_app_answers_probes_without_a_key_and_classify_only_with_one(keyed_app: _App) -> None:
    app = keyed_app.app
    for path in sorted(keyed_app.open_paths):
        assert _call(app, "GET", path, {}).status_code != 401, path
    body = b'{"transactions": [{"id": "1", "text": "TESCO STORES"}]}'
    json_type = {"content-type": "application/json"}
    assert _call(app, "POST", "/v1/classify", json_type, body).status_code == 401
    wrong = {**json_type, "X-API-Key": "wrong-key"}
    assert _call(app, "POST", "/v1/classify", wrong, body).status_code == 401
    for key in AUTH_KEYS:
        for header in ({"Authorization": f"Bearer {key}"}, {"X-API-Key": key}):
            # Past the key check; 503 because no model is loaded here.
            answer = _call(app, "POST", "/v1/classify", {**json_type, **header}, body)
            assert answer.status_code == 503, answer.text


class _Forward(http.server.BaseHTTPRequestHandler):
    """Hands each POST to the real app (in process) and records what it answered."""

    app: FastAPI
    seen: list[tuple[str | None, int]]

    def do_POST(self) -> None:  # http.server's naming
        body = self.rfile.read(int(self.headers["content-length"]))
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        answer = _call(self.app, "POST", self.path, headers, body)
        self.seen.append((self.headers.get("authorization"), answer.status_code))
        self.send_response(answer.status_code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    def log_message(self, format: str, *args: Any) -> None:  # the base method's signature
        return


def _run_test_pod_script(app: FastAPI, key_file: Path) -> tuple[list[tuple[str | None, int]], str]:
    """Run the rendered `helm test` script against ``app``, over real HTTP.

    Returns (authorization header and status of each request it made, its stderr) and asserts nothing.
    """
    container = render(VALUE_SETS["auth"].values).one("Pod")["spec"]["containers"][0]
    assert container["command"][0] == "python3"
    seen: list[tuple[str | None, int]] = []
    handler = type("Handler", (_Forward,), {"app": app, "seen": seen})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)  # listening once constructed
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = {
            **_env(container),
            "TXC_TEST_URL": f"http://127.0.0.1:{server.server_address[1]}/v1/classify",
            "TXC_API_KEYS_FILE": str(key_file),  # the Secret's mount, here a local file
        }
        result = subprocess.run(
            [sys.executable, *container["command"][1:], *container["args"]],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    return seen, result.stderr if result.returncode else ""


def test_helm_test_pod_sends_the_key(keyed_app: _App, tmp_path: Path) -> None:
    key_file = tmp_path / "api-keys"
    # A file as `kubectl create secret --from-file` would hold it: comments and blank lines first.
    key_file.write_text("# rotated 2026-11\n\n" + "\n".join(AUTH_KEYS) + "\n")
    seen, stderr = _run_test_pod_script(keyed_app.app, key_file)
    # First without a key (must be refused), then with the file's first key; the real app lets that
    # one past its key check and answers 503 only because no model is loaded here.
    assert seen == [(None, 401), (f"Bearer {AUTH_KEYS[0]}", 503)], (seen, stderr)
    assert "HTTP Error 503" in stderr


def test_helm_test_pod_fails_if_auth_is_not_enforced(tmp_path: Path) -> None:
    key_file = tmp_path / "api-keys"
    key_file.write_text(AUTH_KEYS[0] + "\n")
    open_app = create_app(Settings(model_dir=Path("/nonexistent-bundle")))  # no keys configured
    seen, stderr = _run_test_pod_script(open_app, key_file)
    assert len(seen) == 1, seen
    assert seen[0][0] is None, seen
    assert "expected 401" in stderr, stderr

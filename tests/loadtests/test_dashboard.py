"""The dashboard picture: the chart's own dashboard.json, queried against a Prometheus HTTP API."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from loadtests import dashboard


class _FakePrometheus(BaseHTTPRequestHandler):
    queries: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)["query"][0]
        type(self).queries.append(query)
        if "kube_deployment" in query:  # kube-state-metrics is absent: Prometheus answers empty
            body, code = {"status": "success", "data": {"resultType": "matrix", "result": []}}, 200
        elif "shadow_disagreements" in query:
            body, code = {"status": "error", "error": "parse error: unexpected thing"}, 400
        else:
            values = [[1_700_000_000 + 15 * i, str(0.5 + i / 100)] for i in range(5)] + [
                [1_700_000_075, "NaN"]
            ]
            result = [{"metric": {"label": "FOOD_AND_DRINK", "pod": "txc-0"}, "values": values}]
            body, code = {"status": "success", "data": {"resultType": "matrix", "result": result}}, 200
        payload = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def prometheus() -> Iterator[str]:
    _FakePrometheus.queries = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakePrometheus)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def test_selector_and_variables_are_filled_like_the_chart() -> None:
    expr = 'sum(rate(x{__SELECTOR__}[1m])) + y{namespace="$namespace"}'
    filled = dashboard.fill_selector(expr, 'job="txc"', {"namespace": "prod"})
    assert filled == 'sum(rate(x{job="txc"}[1m])) + y{namespace="prod"}'


def test_every_panel_is_queried_and_drawn(prometheus: str, tmp_path: Path) -> None:
    panels = dashboard.query_panels(
        prometheus,
        selector='job="txc"',
        start=1_700_000_000,
        end=1_700_000_100,
        step=15,
        variables={"namespace": "prod", "deployment": "txc-prod"},
    )
    document = json.loads(dashboard.DASHBOARD.read_text(encoding="utf-8"))
    assert [p.title for p in panels] == [p["title"] for p in document["panels"]]
    assert not any("__" in q or "$namespace" in q for q in _FakePrometheus.queries)
    assert all(
        'job="txc"' in q or 'deployment="txc-prod"' in q or "txc-prod" in q for q in _FakePrometheus.queries
    )
    queue = panels[0]
    assert queue.series
    assert len(queue.series[0].values) == 5  # the NaN point is dropped
    disagreements = next(p for p in panels if "disagreements" in p.title)
    assert not disagreements.series
    assert disagreements.problem is not None
    assert "parse error" in disagreements.problem
    by_label = next(p for p in panels if p.title.startswith("Served answers"))
    assert by_label.series[0].legend == "FOOD_AND_DRINK"
    output = tmp_path / "dash.png"
    dashboard.render(panels, output, title="test")
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_says_when_prometheus_is_unreachable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = dashboard.main(["--prometheus", "http://127.0.0.1:9", "--output", str(tmp_path / "d.png")])
    assert code == 2
    assert "cannot reach Prometheus" in capsys.readouterr().err
    assert not (tmp_path / "d.png").exists()

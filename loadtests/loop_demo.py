"""The production loop end to end on one machine, and the dashboard picture it leaves.

Runs what docs/operations.md describes, with real processes:

1. copies the served bundle and sets its drift reference from a traffic sample (``txclassify reference``);
2. starts ``txclassify serve`` with corrections stored in SQLite (``TXC_FEEDBACK_DSN``) and a shadow
   bundle (``TXC_SHADOW_MODEL_DIR``), and Debian's ``prometheus`` scraping its ``/metrics`` every 5 s;
3. sends open-loop classify traffic; from the second phase on, the mix shifts towards money transfers
   (so the label-drift PSI rises), and corrections from the hand-labelled dev set arrive at
   ``/v1/feedback`` (so the agreement panel shows the served model's accuracy on them);
4. draws the chart's dashboard from that Prometheus (``loadtests.dashboard``) and prints the numbers the
   panels show.

::

    .venv/bin/python -m loadtests.loop_demo --shadow-model-dir models/txclassify-1.1.0 \\
        --minutes 8 --output docs/dashboard.png
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from loadtests.dashboard import query_panels, render
from loadtests.openloop import TxclassifyFormat, build_schedule, run_open_loop
from loadtests.servers import RunningServer, ServerSpec, free_port
from loadtests.traffic import SizeRange
from training.eval import DevRow, load_devset

__all__ = ["main"]

#: Phase two leans on these labels: the served label mix moves away from the reference.
_SHIFTED = ("TRANSFER_IN", "TRANSFER_OUT", "INCOME", "LOAN_PAYMENTS")


def _post(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def _start_prometheus(binary: str, target: str, work: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    config = work / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 5s, evaluation_interval: 5s}\n"
        "scrape_configs:\n"
        "  - job_name: txclassify\n"
        f"    static_configs: [{{targets: ['{target}'], labels: {{pod: txclassify-0}}}}]\n",
        encoding="utf-8",
    )
    log = (work / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={work / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"{base}/-/ready", timeout=2):
                return process, base
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)  # polling a child process's readiness, not synchronising tests
    process.kill()
    raise RuntimeError(f"prometheus did not become ready; see {work / 'prometheus.log'}")


def _feedback(base_url: str, rows: list[DevRow], start: int, count: int) -> int:
    items = [
        {"id": f"dev-{start + i}", "text": row.text, "label": row.label, "direction": row.direction}
        for i, row in enumerate(rows[start : start + count])
    ]
    answer = _post(f"{base_url}/v1/feedback", {"feedback": items})
    return int(answer["accepted"])


async def _phase(base_url: str, texts: list[str], rate: float, seconds: float, seed: int) -> tuple[int, int]:
    schedule = build_schedule(texts, rate, seconds, SizeRange(1, 20), seed)
    result = await run_open_loop(base_url, TxclassifyFormat(), schedule, rate)
    return result.requests - result.failures, result.failures


def main(argv: list[str] | None = None) -> int:
    summary = (__doc__ or "").split("\n\n")[0]
    parser = argparse.ArgumentParser(prog="python -m loadtests.loop_demo", description=summary)
    parser.add_argument("--model-dir", type=Path, default=None, help="served bundle (default: the index's)")
    parser.add_argument("--shadow-model-dir", type=Path, required=True)
    parser.add_argument("--minutes", type=float, default=8.0)
    parser.add_argument("--rate", type=float, default=20.0, help="classify requests/s (1-20 texts each)")
    parser.add_argument("--prometheus", default=shutil.which("prometheus") or "prometheus")
    parser.add_argument("--output", type=Path, default=Path("docs/dashboard.png"))
    args = parser.parse_args(argv)
    if shutil.which(args.prometheus) is None:
        print(f"error: {args.prometheus} not found (Debian: apt-get install prometheus)", file=sys.stderr)
        return 2
    from service.bundle import default_model_dir
    from training.data import sample_narrations

    work = Path(tempfile.mkdtemp(prefix="loop-demo-"))
    bundle = Path(shutil.copytree(args.model_dir or default_model_dir(), work / "bundle"))
    narrations = sample_narrations(30_000, seed=11)
    usual = [n.text for n in narrations]
    shifted = [n.text for n in narrations if n.label in _SHIFTED] + usual[:3000]
    random.Random(5).shuffle(shifted)
    sample = work / "reference.csv"
    with sample.open("w", newline="", encoding="utf-8") as handle:  # CSV quoting, not JSON's
        writer = csv.writer(handle)
        writer.writerow(["text"])
        writer.writerows([text] for text in usual[:5000])
    subprocess.run(
        [sys.executable, "-m", "service.cli", "reference", str(sample), "--model-dir", str(bundle)],
        check=True,
    )
    env = {
        "TXC_MODEL_DIR": str(bundle),
        "TXC_SHADOW_MODEL_DIR": str(args.shadow_model_dir),
        "TXC_FEEDBACK_DSN": f"sqlite:///{work / 'feedback.db'}",
        "TXC_DRIFT_WINDOW_ITEMS": "3000",
        "TXC_LOG_LEVEL": "warning",
    }
    command = [sys.executable, "-m", "service.cli", "serve", "--host", "127.0.0.1", "--port", "{port}"]
    devset = load_devset()  # the hand-labelled dev set: corrections with human labels
    random.Random(3).shuffle(devset)
    seconds = args.minutes * 60
    started = time.time()
    with RunningServer(ServerSpec("loop", command, "txclassify", env), work / "server.log") as server:
        prometheus, prom_url = _start_prometheus(args.prometheus, f"127.0.0.1:{server.port}", work)
        try:
            # Corrections trickle in from the start (a counter's first sample is its baseline).
            sent = _feedback(server.base_url, devset, 0, 25)
            first = asyncio.run(_phase(server.base_url, usual, args.rate, seconds / 3, seed=1))
            print(f"phase 1 (usual mix): {first[0]} requests answered, {first[1]} failed", flush=True)
            deadline = time.time() + 2 * seconds / 3
            while time.time() < deadline:
                chunk = min(20.0, deadline - time.time())
                second = asyncio.run(_phase(server.base_url, shifted, args.rate, chunk, seed=2 + sent))
                if sent + 50 <= len(devset):
                    sent += _feedback(server.base_url, devset, sent, 50)
                print(f"phase 2 (shifted mix): {second[0]} answered, {second[1]} failed; "
                      f"{sent} corrections stored", flush=True)  # fmt: skip
            time.sleep(12)  # two scrapes after the last request, so the panels include it
            panels = query_panels(
                prom_url, selector='job="txclassify"', start=started, end=time.time(), step=10,
                variables={"namespace": "default", "deployment": "txclassify"},
            )  # fmt: skip
        finally:
            prometheus.terminate()
            prometheus.wait(timeout=30)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    render(panels, args.output, title=f"txclassify dashboard, loadtests.loop_demo on one machine - {stamp}")
    print(f"wrote {args.output} (work files in {work})")
    for panel in panels:
        last = ", ".join(f"{s.legend[:24]}={s.values[-1]:.3g}" for s in panel.series[:4]) or "no data"
        print(f"  {panel.title[:60]:<60} {last}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

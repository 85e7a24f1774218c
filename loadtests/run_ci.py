"""CI's short load test: serve the default bundle on 127.0.0.1, run Locust headless, enforce the SLA.

Bounded in every dimension: one server on a free loopback port, ``--users`` simulated clients for
``--run-time-s`` seconds, a hard timeout on Locust, and the server stopped whatever happens. The exit
code is Locust's, which the SLA hook in ``locustfile.py`` sets to 1 on any failed limit::

    python -m loadtests.run_ci                      # the default bundle, 30 s, this machine's SLA
    python -m loadtests.run_ci --model-dir /tmp/b   # another bundle

Reports (HTML, CSV, the per-class CSV the SLA uses, the server log) land in ``--report-dir``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from loadtests.servers import REPO_ROOT, RunningServer, ServerSpec
from loadtests.sla import DEFAULT_SLA_PATH

__all__ = ["locust_command", "main"]

LOCUSTFILE = REPO_ROOT / "loadtests" / "locustfile.py"


def locust_command(host: str, args: argparse.Namespace) -> list[str]:
    prefix = args.report_dir / "ci"
    return [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", host,
        "--users", str(args.users), "--spawn-rate", str(args.users), "--run-time", f"{args.run_time_s}s",
        "--batch-size", args.batch_size, "--batch-weight", "2", "--interactive-weight", str(args.users - 2),
        "--csv", str(prefix), "--html", f"{prefix}.html",
        "--sla-file", str(args.sla_file), "--sla-profile", args.sla_profile,
        "--only-summary",
    ]  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Short SLA load test against a local server.")
    parser.add_argument("--model-dir", type=Path, default=None, help="bundle (default: models/index.json)")
    parser.add_argument(
        "--users", type=int, default=8, help="simulated clients: 2 batch, the rest interactive"
    )
    parser.add_argument("--run-time-s", type=int, default=30)
    parser.add_argument("--batch-size", default="1000-5000", help="transactions per batch request")
    parser.add_argument("--sla-file", type=Path, default=DEFAULT_SLA_PATH)
    parser.add_argument("--sla-profile", default="local-2core")
    parser.add_argument("--report-dir", type=Path, default=REPO_ROOT / "reports" / "loadtest-ci")
    args = parser.parse_args(argv)
    if args.users < 3:
        parser.error("--users must be at least 3 (2 batch customers and an interactive client)")

    args.report_dir.mkdir(parents=True, exist_ok=True)
    env = {"TXC_LOG_LEVEL": "warning"}
    if args.model_dir is not None:
        env["TXC_MODEL_DIR"] = str(args.model_dir.resolve())
    spec = ServerSpec(
        "txclassify",
        [sys.executable, "-m", "service.cli", "serve", "--host", "127.0.0.1", "--port", "{port}"],
        "txclassify",
        env,
        startup_timeout_s=180.0,
    )
    with RunningServer(spec, args.report_dir / "server.log") as server:
        command = locust_command(server.base_url, args)
        print("+", " ".join(command), flush=True)
        try:
            completed = subprocess.run(command, cwd=REPO_ROOT, timeout=args.run_time_s + 120, check=False)
        except subprocess.TimeoutExpired:
            print(f"locust did not finish within {args.run_time_s + 120} s", file=sys.stderr)
            return 1
    print(f"reports in {args.report_dir}", flush=True)
    return completed.returncode


if __name__ == "__main__":
    raise SystemExit(main())

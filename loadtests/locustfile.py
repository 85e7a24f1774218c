"""Locust traffic for txclassify: batch customers, interactive clients, and the MonoHQ profile.

Headless, against any host, with HTML and CSV reports (exit code 1 when the SLA is missed)::

    locust -f loadtests/locustfile.py --headless -H http://127.0.0.1:8080 -u 10 -r 10 -t 60s \
        --csv reports/run --html reports/run.html

    # the MonoHQ scenario: 4 customers post 5,000 transactions at once while 10 interactive clients go on
    locust -f loadtests/locustfile.py --headless -H http://127.0.0.1:8080 --traffic-profile monohq \
        -u 10 -t 300s \
        --csv reports/monohq --html reports/monohq.html

Profiles (``--traffic-profile``): ``mixed`` runs ``-u`` users split by ``--batch-weight`` and
``--interactive-weight``;
``monohq`` runs ``-u`` interactive clients, and after ``--monohq-warmup-s`` seconds ``--monohq-customers``
customers each post ``--monohq-size`` transactions at the same moment; the run ends
``--monohq-tail-s`` after the last of them is answered. Request sizes and think times are options too.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast
from weakref import WeakKeyDictionary

from locust import FastHttpUser, LoadTestShape, User, events, task
from locust.env import Environment

from loadtests.requestlog import RequestLog, RequestRecord, write_class_csv
from loadtests.sla import evaluate, load_sla, observations_from_summaries, report
from loadtests.traffic import REQUEST_CLASSES, NarrationPool, SizeRange, classify_body

INTERACTIVE, BATCH, MONOHQ_BATCH = REQUEST_CLASSES
CLASSIFY_PATH = "/v1/classify"


@dataclass
class TrafficContext:
    """Per-run state shared by the users and the shape: the narration pool and the request log."""

    pool: NarrationPool
    log: RequestLog = field(default_factory=RequestLog)
    monohq_start_s: float | None = None
    monohq_done_at_s: float | None = None


_CONTEXTS: WeakKeyDictionary[Environment, TrafficContext] = WeakKeyDictionary()


def context_of(environment: Environment) -> TrafficContext:
    context = _CONTEXTS.get(environment)
    if context is None:
        raise RuntimeError("the traffic context is created by the init hook; this is a bug")
    return context


def _add_options(parser: Any, **_: Any) -> None:
    parser.add_argument(
        "--traffic-profile", choices=["mixed", "monohq"], default="mixed", help="traffic profile"
    )
    parser.add_argument("--batch-size", default="1000-5000", help="transactions per batch request (LOW-HIGH)")
    parser.add_argument("--interactive-size", default="1-20", help="transactions per interactive request")
    parser.add_argument("--batch-wait", default="1-3", help="seconds a batch customer waits between posts")
    parser.add_argument("--interactive-wait", default="0.2-1", help="seconds an interactive client waits")
    parser.add_argument("--batch-weight", type=int, default=1, help="mix: relative share of batch customers")
    parser.add_argument("--interactive-weight", type=int, default=4, help="mix: share of interactive clients")
    parser.add_argument("--monohq-customers", type=int, default=4, help="monohq: customers posting at once")
    parser.add_argument("--monohq-size", type=int, default=5000, help="monohq: transactions per customer")
    parser.add_argument("--monohq-warmup-s", type=float, default=5.0, help="monohq: interactive-only lead")
    parser.add_argument("--monohq-tail-s", type=float, default=5.0, help="monohq: run on after the batches")
    parser.add_argument(
        "--narration-pool", type=int, default=100000, help="narrations generated, used in order"
    )
    parser.add_argument("--traffic-seed", type=int, default=7, help="seed of the narration generator")
    parser.add_argument("--sla-file", default=str(Path(__file__).with_name("sla.yaml")), help="'' = no check")
    parser.add_argument("--sla-profile", default="", help="profile of the SLA file (default: its default)")


def _seconds_range(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    return float(low), float(high or low)


def _on_init(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    if options is None:  # a library user built the environment: nothing to configure
        return
    _CONTEXTS[environment] = TrafficContext(
        NarrationPool.generate(options.narration_pool, options.traffic_seed)
    )
    # Locust's own hook for class attributes (what --config-users does): the mix is a CLI option.
    untyped: Any = environment  # Locust's hooks are untyped
    untyped.update_user_class({"user_class_name": "BatchCustomer", "weight": options.batch_weight})
    untyped.update_user_class({"user_class_name": "InteractiveClient", "weight": options.interactive_weight})
    untyped.update_user_class({"user_class_name": "MonoHQCustomer", "fixed_count": options.monohq_customers})
    untyped.events.request.add_listener(_record_request(environment))


def _record_request(environment: Environment) -> Any:
    def record(
        name: str, response_time: float, exception: Any, context: dict[str, Any], **kwargs: Any
    ) -> None:
        if name not in REQUEST_CLASSES or environment not in _CONTEXTS:
            return
        start = float(kwargs.get("start_time") or time.time() - response_time / 1000.0)
        texts = int(context.get("texts", 0))
        _CONTEXTS[environment].log.add(
            RequestRecord(name, start, response_time / 1000.0, texts, exception is None)
        )

    return record


class _ClassifyUser(FastHttpUser):
    """Posts narrations to /v1/classify, checks the answer, and honours 429's Retry-After."""

    abstract = True
    network_timeout = 180.0
    connection_timeout = 10.0
    think_time_option = "interactive_wait"

    def on_start(self) -> None:
        self._rng = random.Random()
        self._retry_after_s = 0.0

    def wait_time(self) -> float:
        low, high = _seconds_range(getattr(self.environment.parsed_options, self.think_time_option))
        pause = max(self._retry_after_s, self._rng.uniform(low, high))
        self._retry_after_s = 0.0
        return pause

    def post(self, request_class: str, count: int) -> None:
        texts = context_of(self.environment).pool.draw(count)
        with self.client.post(
            CLASSIFY_PATH,
            json=classify_body(texts),
            name=request_class,
            context={"texts": count},
            catch_response=True,
        ) as response:
            if response.status_code == 200:
                results = response.json().get("results", [])
                if len(results) != count:
                    response.failure(f"{len(results)} results for {count} transactions")
            elif response.status_code == 429:
                self._retry_after_s = float(response.headers.get("Retry-After", "1"))
                response.failure("429 overloaded")
            else:
                response.failure(f"HTTP {response.status_code}")


class InteractiveClient(_ClassifyUser):
    weight = 4

    @task
    def classify_few(self) -> None:
        size = SizeRange.parse(self.environment.parsed_options.interactive_size)
        self.post(INTERACTIVE, size.draw(self._rng))


class BatchCustomer(_ClassifyUser):
    weight = 1
    think_time_option = "batch_wait"

    @task
    def classify_statement(self) -> None:
        size = SizeRange.parse(self.environment.parsed_options.batch_size)
        self.post(BATCH, size.draw(self._rng))


class MonoHQCustomer(_ClassifyUser):
    """Posts one big request at the profile's common start time, then stays idle."""

    fixed_count = 4
    think_time_option = "monohq_tail_s"

    @task
    def classify_once(self) -> None:
        context = context_of(self.environment)
        if context.monohq_start_s is None:
            context.monohq_start_s = time.monotonic() + self.environment.parsed_options.monohq_warmup_s
        # Locust monkey-patches time.sleep to yield to other users (gevent).
        time.sleep(max(0.0, context.monohq_start_s - time.monotonic()))
        self.post(MONOHQ_BATCH, self.environment.parsed_options.monohq_size)
        self.stop_idle()

    def stop_idle(self) -> None:
        # A stopped user would be respawned by the shape; one that sleeps is simply cancelled at the end.
        time.sleep(24 * 3600)


class TrafficProfile(LoadTestShape):
    """Picks the user classes of ``--traffic-profile``; ends a MonoHQ run once its batches are answered."""

    use_common_options = True

    def tick(self) -> tuple[int, float] | tuple[int, float, list[type[User]] | None] | None:
        if self.runner is None or self.runner.environment.parsed_options is None:
            return None
        environment = self.runner.environment
        options: Any = environment.parsed_options
        elapsed: float = cast(Any, self).get_run_time()
        if options.run_time and elapsed > options.run_time:
            return None
        users, spawn_rate = int(options.num_users or 1), float(options.spawn_rate or 1)
        if options.traffic_profile == "mixed":
            return users, spawn_rate, [BatchCustomer, InteractiveClient]
        context = context_of(environment)
        if context.log.completed(MONOHQ_BATCH) >= options.monohq_customers:
            if context.monohq_done_at_s is None:
                context.monohq_done_at_s = elapsed
            if elapsed > context.monohq_done_at_s + options.monohq_tail_s:
                return None
        total = users + options.monohq_customers
        return total, max(spawn_rate, float(total)), [MonoHQCustomer, InteractiveClient]


def _on_quitting(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    if options is None or environment not in _CONTEXTS:
        return
    log = _CONTEXTS[environment].log
    summaries = [log.summarize(request_class) for request_class in log.classes()]
    for summary in summaries:
        print(
            f"{summary.request_class:>13}: {summary.requests} requests, {summary.failures} failed, "
            f"{summary.texts_per_s:.1f} texts/s, p50 {summary.p50_ms:.0f} ms, p95 {summary.p95_ms:.0f} ms, "
            f"p99 {summary.p99_ms:.0f} ms, max {summary.max_ms:.0f} ms"
        )
    monohq = _monohq_report(log) if options.traffic_profile == "monohq" else None
    if monohq is not None:
        print("MonoHQ:", json.dumps(monohq))
    if options.csv_prefix:
        write_class_csv(Path(f"{options.csv_prefix}_classes.csv"), summaries)
        if monohq is not None:
            Path(f"{options.csv_prefix}_monohq.json").write_text(json.dumps(monohq, indent=2) + "\n")
    if options.sla_file:
        sla = load_sla(Path(options.sla_file), options.sla_profile or None)
        passed = report(evaluate(sla, observations_from_summaries(summaries)))
        environment.process_exit_code = 0 if passed else 1


def _monohq_report(log: RequestLog) -> dict[str, Any] | None:
    """The batch requests' wall times and the interactive latency while they were in flight."""
    window = log.window_of(MONOHQ_BATCH)
    if window is None:
        return None
    batches = log.records(MONOHQ_BATCH)
    during = log.summarize_window(INTERACTIVE, window)
    return {
        "batch_requests": len(batches),
        "batch_failures": sum(1 for r in batches if not r.ok),
        "batch_wall_s": sorted(round(r.duration_s, 3) for r in batches),
        "all_batches_answered_after_s": round(window[1] - window[0], 3),
        "interactive_during_batches": asdict(during),
    }


# A locustfile is configured by importing it: Locust loads this module, then fires these hooks.
_hooks: Any = events
_hooks.init_command_line_parser.add_listener(_add_options)
_hooks.init.add_listener(_on_init)
_hooks.quitting.add_listener(_on_quitting)

"""Prometheus metrics (prometheus-client), served at `GET /metrics` to a scraper that holds
`PORTAL_METRICS_TOKEN`; without that setting the route answers 404.

Each `Runtime` has its own registry: no process-global state. Where several processes share a host
(several `portal serve`, a `portal worker`, the commands that import advisories), prometheus-client's
multiprocess mode adds them up: give each of them the same empty folder in `PROMETHEUS_MULTIPROC_DIR`
(the library's own setting, read when it is first imported) and any API process answers for all.
What is read from the database (outbox lag, job queue) is read at each scrape by the process answering.
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
WORK_BUCKETS = (0.05, 0.25, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
# Requests no route matched are counted together: their paths are whatever clients make up.
UNMATCHED = "unmatched"
MAX_REMEMBERED_LABELS = 2000


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


@dataclass(frozen=True)
class QueueFigures:
    """What waits in the database, read at scrape time."""

    now: datetime
    outbox_pending: int
    outbox_oldest: datetime | None
    deliveries_pending: int
    deliveries_oldest_due: datetime | None
    jobs: dict[str, tuple[int, datetime | None]] = field(default_factory=dict)


class Metrics:
    def __init__(self) -> None:
        self.multiprocess = multiprocess_dir() is not None
        self.registry = CollectorRegistry(auto_describe=True)
        # In multiprocess mode the values live in the shared folder; the scrape collects them from there.
        owner = None if self.multiprocess else self.registry
        self.requests = Counter(
            "portal_http_requests",
            "HTTP requests answered, by route template and status",
            ["method", "route", "status"],
            registry=owner,
        )
        self.latency = Histogram(
            "portal_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=owner,
        )
        self.login_refusals = Counter(
            "portal_login_refusals",
            "Logins and token refreshes refused by the per-client rate limit",
            ["flow"],
            registry=owner,
        )
        self.deliveries = Counter(
            "portal_webhook_deliveries",
            "Webhook delivery attempts, by outcome (succeeded, failed, gone)",
            ["outcome"],
            registry=owner,
        )
        self.jobs = Histogram(
            "portal_job_duration_seconds",
            "Background jobs (a batch of version scans is one), by kind and outcome",
            ["kind", "outcome"],
            buckets=WORK_BUCKETS,
            registry=owner,
        )
        self.imports = Histogram(
            "portal_import_duration_seconds",
            "Imports of advisories and exploitation signals (KEV, EPSS), by kind",
            ["kind"],
            buckets=WORK_BUCKETS,
            registry=owner,
        )
        self.cache_lookups = Counter(
            "portal_read_cache_lookups",
            "Read cache lookups, by result (hit or miss); the hit ratio is hit / (hit + miss)",
            ["result"],
            registry=owner,
        )
        self._hit = self.cache_lookups.labels("hit")
        self._by_request: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._miss = self.cache_lookups.labels("miss")

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._by_request.get(key)
        if children is None:  # `labels` costs a lock and a dict per call: found once per combination
            children = self.requests.labels(method, route, str(status)), self.latency.labels(method, route)
            if len(self._by_request) < MAX_REMEMBERED_LABELS:  # methods are what clients make up
                self._by_request[key] = children
        counter, histogram = children
        counter.inc()
        histogram.observe(seconds)

    def cache_lookup(self, hit: bool) -> None:
        (self._hit if hit else self._miss).inc()

    def render(self, queues: QueueFigures) -> bytes:
        registry = self.registry
        if self.multiprocess:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        waiting = CollectorRegistry()
        waiting.register(_Queues(queues))
        return generate_latest(registry) + generate_latest(waiting)


class _Queues(Collector):
    def __init__(self, figures: QueueFigures) -> None:
        self.figures = figures

    def collect(self) -> Iterator[Metric]:
        figures = self.figures
        yield GaugeMetricFamily(
            "portal_outbox_pending_events",
            "Committed events not yet turned into webhook deliveries",
            value=figures.outbox_pending,
        )
        yield GaugeMetricFamily(
            "portal_outbox_lag_seconds",
            "Age of the oldest event not yet turned into deliveries (0 when none waits)",
            value=_age(figures.now, figures.outbox_oldest),
        )
        yield GaugeMetricFamily(
            "portal_webhook_deliveries_pending",
            "Webhook deliveries still to be made (first attempts and retries) to active subscriptions",
            value=figures.deliveries_pending,
        )
        yield GaugeMetricFamily(
            "portal_webhook_delivery_lag_seconds",
            "How long the longest-waiting due delivery has waited (0 when none is due)",
            value=_age(figures.now, figures.deliveries_oldest_due),
        )
        depth = GaugeMetricFamily("portal_job_queue_depth", "Queued jobs, by kind", labels=["kind"])
        age = GaugeMetricFamily(
            "portal_job_queue_age_seconds",
            "How long the longest-waiting due job has waited, by kind (0 when none is due)",
            labels=["kind"],
        )
        for kind, (count, oldest_due) in sorted(figures.jobs.items()):
            depth.add_metric([kind], count)
            age.add_metric([kind], _age(figures.now, oldest_due))
        yield depth
        yield age


def _age(now: datetime, since: datetime | None) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0

"""Every Prometheus metric of the bot, defined once: other modules import the names from here.

Defined in one module so that a name is registered once per process (prometheus_client refuses
a second registration) and an operator finds the whole list, with its labels, in one place.
`GET /metrics` on the HTTP server (handlers/http/metrics.py) renders the default registry,
which also carries the process metrics (CPU, memory, open files) prometheus_client adds.

Labels never carry personal data or unbounded values: channels, outcomes, result classes and
outbox states are small fixed sets; no user id, phone or text ever becomes a label.

Names and labels (see docs/DEPLOY.md for what to alert on):
- `bhxh_updates_total{channel, outcome}`: incoming updates handled by the conversation core;
  outcome `answered` (replies sent), `silent` (handled, nothing to say), `ignored` (not for the
  core: a group message, a bot), `error` (the handling raised; the person got the apology);
- `bhxh_reply_seconds{channel}`: from the handler taking an update to its last reply sent;
- `bhxh_webhook_requests_total{channel, result}`: webhook POSTs by answer: `stored`,
  `duplicate` (a retry of an update already in the inbox), `refused` (secret or signature),
  `invalid` (not an update), `too_large`, `unavailable` (inbox unwritable or shutting down);
- `bhxh_sends_total{channel, result}`: sends through a channel's Sender (reminders, summaries):
  `delivered`, `blocked`, `retry_after`, `refused`, `unknown`, `channel_down`; paid ZNS template
  sends count under channel `zns`: `accepted`, or the queue's action (`retry_later`, `night`,
  `never_retry`, `daily_limit`, `stop_queue`, `unknown`);
- `bhxh_rate_limited_total{channel}`: 429 answers received (flood limits hit);
- `bhxh_zns_quota_pauses_total`: ZNS sending paused because a quota was reached;
- `bhxh_outbox_rows{state}`: reminder outbox rows by state, read from storage at scrape time.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "OUTBOX_ROWS",
    "RATE_LIMITED",
    "REPLY_SECONDS",
    "SENDS",
    "UPDATES",
    "WEBHOOK_REQUESTS",
    "ZNS_QUOTA_PAUSES",
]

UPDATES = Counter("bhxh_updates_total", "Incoming updates handled, by channel and outcome", ["channel", "outcome"])
# Buckets around what a person notices: under 0.25 s feels instant, over 5 s is a problem.
REPLY_SECONDS = Histogram(
    "bhxh_reply_seconds",
    "Seconds from taking an update to its last reply sent",
    ["channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0),
)
WEBHOOK_REQUESTS = Counter(
    "bhxh_webhook_requests_total", "Webhook POSTs received, by channel and answer", ["channel", "result"]
)
SENDS = Counter("bhxh_sends_total", "Messages sent through a channel's Sender, by result", ["channel", "result"])
RATE_LIMITED = Counter("bhxh_rate_limited_total", "429 (too many requests) answers received", ["channel"])
ZNS_QUOTA_PAUSES = Counter("bhxh_zns_quota_pauses_total", "Times ZNS sending paused because a quota was reached")
OUTBOX_ROWS = Gauge("bhxh_outbox_rows", "Reminder outbox rows by state (read at scrape time)", ["state"])

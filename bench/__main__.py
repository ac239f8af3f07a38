"""`python -m bench [NAME...]`: run the named benchmarks (default: all) and print figures."""

from __future__ import annotations

import importlib
import sys

from bench.common import machine

# name -> module with a `run()` function. Feature benchmarks add themselves here.
BENCHMARKS: dict[str, str] = {
    "engine": "bench.bench_engine",
    "engines": "bench.bench_engines",
    "migrate": "bench.bench_migrate",
    "gather-sql": "bench.bench_gather_sql",
    "citizen": "bench.bench_citizen_e2e",
    "logging": "bench.bench_logging",
    "tallies": "bench.bench_tallies",
    "coverage": "bench.bench_coverage",
    "summaries": "bench.bench_summaries",
    "reminders": "bench.bench_reminders",
    "limits": "bench.bench_limits",
    "uploads": "bench.bench_uploads",
    "zalo-webhook": "bench.bench_zalo_webhook",
    "zns-send": "bench.bench_zalo_zns",
}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    print(f"machine: {machine()}", flush=True)
    for name in names:
        importlib.import_module(BENCHMARKS[name]).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

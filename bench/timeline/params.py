"""bench/timeline's sizes, from the environment (see the package docstring)."""

from __future__ import annotations

import os

CONTACTS = int(os.environ.get("BENCH_CONTACTS", "100000"))
ENTRIES = int(os.environ.get("BENCH_ENTRIES", "1000000"))
RUNS = int(os.environ.get("BENCH_RUNS", "30"))
BUSY = 60_000  # entries of the busiest contact: 1,200 pages of 50
PAGE = 50
DEEP_PAGE = 1000

"""Garbage-collector settings for a long-running API process (`launchdeck serve`, `launchdeck up`).

Why: a portfolio page at 200 launches builds about a hundred thousand short-lived objects. With
CPython's default thresholds (700, 10, 10) that allocation triggers a full, generation-2 collection
every few requests, and each one walks every object the process holds (SQLAlchemy's and pydantic's
metadata, the app, the templates). Measured in-process on the 200-launch benchmark data: portfolio
p50 83 ms / p95 211 ms with the defaults; 80 / 86 ms with the start-up objects frozen; 53 / 58 ms
frozen and with these thresholds. Freezing only exempts what exists once the app has started from
later collections; reference cycles created afterwards are still collected.

Only the serving process does this (``create_app(tune_gc=True)`` via ``serving_app``): tests and
other embedders of the app keep the interpreter's defaults.
"""

import gc

THRESHOLDS = (10_000, 20, 20)


def settle_for_serving() -> None:
    """Collect once, freeze what survived start-up, then collect less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)

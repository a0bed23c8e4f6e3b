"""Benchmark scripts: run each with `.venv/bin/python -m benchmarks.<name>` (see BENCHMARKS.md)."""

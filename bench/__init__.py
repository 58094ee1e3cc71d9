"""Benchmark suite for databridge (see bench/README.md)."""

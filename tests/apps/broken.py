"""A module that fails while it is imported, for the CLI tests."""

raise RuntimeError("tests.apps.broken fails on import on purpose")

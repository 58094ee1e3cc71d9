"""Test helpers: ``from databridge.testing import TestClient``."""

from __future__ import annotations

from .testclient import TestClient, TestResponse

__all__ = ["TestClient", "TestResponse"]

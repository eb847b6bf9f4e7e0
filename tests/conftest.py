"""Shared fixtures: a running registry replica and a fresh warehouse path per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from replica.server import Faults, Replica
from replica.world import World

# Prefect, when a test uses it, keeps its state in one place per session and stays offline and quiet.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


@pytest.fixture(scope="session")
def world() -> World:
    return World()


@pytest.fixture(scope="session")
def replica(world: World) -> Iterator[Replica]:
    """The replica with its default faults on: crawls must still get everything."""
    with Replica(world) as server:
        yield server


@pytest.fixture
def quiet_replica(world: World) -> Iterator[Replica]:
    with Replica(world, Faults.none()) as server:
        yield server


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "data" / "creditwatch.duckdb"

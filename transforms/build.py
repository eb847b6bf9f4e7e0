"""Build the layered models (staging → core → marts) in the warehouse, then run the data tests.

Models live in transforms/models/<layer>/ as one file each, named for what they hold:
- `<name>.sql`: a SELECT; staging models become views, core and marts tables.
- `<name>.py`: a Python model with `model(con) -> pyarrow.Table | pandas.DataFrame` (the linker).
A model's name is `<layer>.<file stem>`; its dependencies are the other models it names.
Data tests (transforms/data_tests/*.sql) are queries that must return no rows.

The whole build, tests included, is one transaction: a failure leaves the previous build in place.
"""

from __future__ import annotations

import importlib.util
import re
import time
from dataclasses import dataclass, field
from datetime import date
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb

from warehouse.db import pause_point, transaction

ROOT = Path(__file__).parent
MODELS = ROOT / "models"
DATA_TESTS = ROOT / "data_tests"
SEEDS = ROOT / "seeds"  # small reference tables kept as CSV data (like dbt seeds), loaded as seeds.<name>
LAYERS = ("staging", "core", "marts")


@dataclass(frozen=True)
class Model:
    name: str  # schema.table
    layer: str
    path: Path

    @property
    def text(self) -> str:
        return self.path.read_text("utf-8")

    @property
    def materialized(self) -> str:
        return "view" if self.layer == "staging" and self.path.suffix == ".sql" else "table"


@dataclass
class BuildResult:
    built: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


class DataTestFailure(RuntimeError):
    def __init__(self, failures: dict[str, int]) -> None:
        self.failures = failures
        listed = "; ".join(f"{name}: {n} rows" for name, n in failures.items())
        super().__init__(f"data tests failed ({listed}); the previous build was kept")


def discover() -> dict[str, Model]:
    models = {}
    for layer in LAYERS:
        for path in sorted((MODELS / layer).glob("*")):
            if path.suffix in (".sql", ".py") and not path.name.startswith("_"):
                model = Model(f"{layer}.{path.stem}", layer, path)
                models[model.name] = model
    return models


def dependencies(models: dict[str, Model]) -> dict[str, set[str]]:
    graph = {}
    for name, model in models.items():
        text = model.text
        graph[name] = {other for other in models if other != name and re.search(rf"\b{re.escape(other)}\b", text)}
    return graph


def select(models: dict[str, Model], targets: list[str] | None) -> list[str]:
    """Models in build order; with `targets`, only those and what they depend on (dbt's `+model`)."""
    graph = dependencies(models)
    order = list(TopologicalSorter(graph).static_order())
    if not targets:
        return order
    unknown = [t for t in targets if t not in models]
    if unknown:
        raise ValueError(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(sorted(models))}")
    wanted: set[str] = set()
    stack = list(targets)
    while stack:
        name = stack.pop()
        if name not in wanted:
            wanted.add(name)
            stack.extend(graph[name])
    return [name for name in order if name in wanted]


def _python_model(model: Model, con: duckdb.DuckDBPyConnection) -> object:
    spec = importlib.util.spec_from_file_location(f"creditwatch_model_{model.path.stem}", model.path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.model(con)


def build_model(con: duckdb.DuckDBPyConnection, model: Model) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {model.layer}")
    if model.path.suffix == ".py":
        frame = _python_model(model, con)  # noqa: F841 (DuckDB reads the local by name)
        con.execute(f"CREATE OR REPLACE TABLE {model.name} AS SELECT * FROM frame")
    else:
        kind = "VIEW" if model.materialized == "view" else "TABLE"
        con.execute(f"CREATE OR REPLACE {kind} {model.name} AS\n{model.text}")


def load_seeds(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS seeds")
    for path in sorted(SEEDS.glob("*.csv")):
        con.execute(f"CREATE OR REPLACE TABLE seeds.{path.stem} AS "
                    "SELECT * FROM read_csv(?, header = true, all_varchar = true)", [str(path)])


def run_data_tests(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    failures = {}
    for path in sorted(DATA_TESTS.glob("*.sql")):
        rows = con.execute(f"SELECT count(*) FROM ({path.read_text('utf-8')})").fetchall()[0][0]
        if rows:
            failures[path.stem] = rows
    return failures


def build(con: duckdb.DuckDBPyConnection, targets: list[str] | None = None, as_of: date | None = None,
          tests: bool = True) -> BuildResult:
    """Build `targets` (default: every model) and, for a full build, run the data tests; one transaction."""
    models = discover()
    order = select(models, targets)
    result = BuildResult()
    with transaction(con):
        con.execute("SET VARIABLE as_of = ?::DATE", [as_of or date.today()])
        load_seeds(con)
        for name in order:
            started = time.perf_counter()
            build_model(con, models[name])
            result.seconds[name] = time.perf_counter() - started
            result.rows[name] = con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
            result.built.append(name)
            pause_point("build.after_model")
        if tests and not targets:
            failures = run_data_tests(con)
            if failures:
                raise DataTestFailure(failures)
    return result

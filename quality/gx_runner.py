"""Run a suite with Great Expectations 1.x on a DuckDB file, as SQL (never pandas frames).

GX is imported lazily (it takes seconds) and runs in an ephemeral context with progress bars off.
Row-level results come back as the failing rows' business keys (GX's ``unexpected_index_list``),
which is what quarantine routes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quality.suites import Expectation, Suite

KEY_SEPARATOR = ":"


@dataclass(frozen=True)
class ExpectationResult:
    suite: str
    table: str
    name: str
    severity: str
    quarantine: bool
    success: bool
    rows_evaluated: int | None
    rows_failed: int
    observed_value: str | None
    failing_keys: tuple[str, ...] = field(default=(), repr=False)
    error: str | None = None


@dataclass(frozen=True)
class SuiteResult:
    suite: Suite
    results: tuple[ExpectationResult, ...]

    @property
    def passed(self) -> bool:
        return all(r.success for r in self.results if r.severity == "error")

    def failed(self, severity: str | None = None) -> list[ExpectationResult]:
        return [r for r in self.results if not r.success and (severity is None or r.severity == severity)]


def _gx() -> Any:
    import great_expectations as gx
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine

    class _DuckDbDialect(str):
        value = "duckdb"

    # DuckDB drops a result set when its connection goes back to the pool, and GX reads results
    # after that; GX keeps one connection open for the dialects listed here, so DuckDB joins them.
    if "duckdb" not in engine._PERSISTED_CONNECTION_DIALECTS:
        engine._PERSISTED_CONNECTION_DIALECTS += (_DuckDbDialect("duckdb"),)
    return gx


def _gx_expectation(gxe: Any, expectation: Expectation, key: tuple[str, ...]) -> Any:
    class_name = "".join(p.capitalize() for p in f"expect_{expectation.expect}".split("_"))
    if expectation.expect == "unexpected_rows":
        return gxe.UnexpectedRowsExpectation(
            unexpected_rows_query=expectation.arguments["query"], description=expectation.name
        )
    cls = getattr(gxe, class_name, None)
    if cls is None:
        raise ValueError(f"rule {expectation.name}: unknown expectation kind {expectation.expect!r}")
    return cls(**expectation.arguments, description=expectation.name)


def _keys(rows: list[dict[str, Any]], key: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(KEY_SEPARATOR.join(str(row.get(k)) for k in key) for row in rows)


def _unexpected_row_keys(engine: Any, suite: Suite, expectation: Expectation) -> tuple[str, ...]:
    # GX returns a bounded sample of an unexpected-rows query; routing needs every row, so the same
    # declared query runs once more on GX's own connection, selecting only the business key.
    import sqlalchemy as sa

    query = expectation.arguments["query"].replace("{batch}", f"(select * from {suite.table}) as subselect")
    cols = ", ".join(f"u.{k}" for k in suite.key)
    rows = engine.execute_query(sa.text(f"select distinct {cols} from ({query}) as u")).fetchall()
    return tuple(KEY_SEPARATOR.join(str(v) for v in row) for row in rows)


def _result(suite: Suite, expectation: Expectation, raw: Any, engine: Any) -> ExpectationResult:
    result = raw.result or {}
    error = None
    if raw.exception_info and raw.exception_info.get("raised_exception"):
        error = str(raw.exception_info.get("exception_message"))
    elif raw.exception_info and not raw.success and not result:
        first = next(iter(raw.exception_info.values()), {})
        error = str(first.get("exception_message", first)) if isinstance(first, dict) else str(first)
    if expectation.expect == "unexpected_rows":
        failed = int(result.get("observed_value") or 0)
        keys = _unexpected_row_keys(engine, suite, expectation) if failed and expectation.quarantine else ()
        evaluated = None
        observed = str(failed)
    else:
        failed = int(result.get("unexpected_count") or 0)
        keys = _keys(result.get("unexpected_index_list") or [], suite.key) if failed else ()
        evaluated = result.get("element_count")
        observed = None if "observed_value" not in result else str(result["observed_value"])
    return ExpectationResult(
        suite=suite.name, table=suite.table, name=expectation.name, severity=expectation.severity,
        quarantine=expectation.quarantine, success=bool(raw.success) and error is None,
        rows_evaluated=evaluated, rows_failed=failed, observed_value=observed, failing_keys=keys, error=error,
    )


def run_suites(db: Path, suites: list[Suite]) -> list[SuiteResult]:
    """Validate each suite against the DuckDB file ``db`` through one GX SQL datasource.

    The connection is closed before returning, so the caller can open the file again.
    """
    gx = _gx()
    import great_expectations.expectations as gxe
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # Usage analytics off on the context itself, so no caller's environment has to say so.
    context.enable_analytics(False)
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_sql(name="warehouse", connection_string=f"duckdb:///{db}")
    results = []
    engines: list[Any] = []
    try:
        for suite in suites:
            # A query asset, because GX's DuckDB dialect drops the schema of a table asset.
            asset = source.add_query_asset(name=suite.name, query=f"select * from {suite.table}")
            batch = asset.add_batch_definition_whole_table("all").get_batch()
            engine = batch.data.execution_engine
            engines.append(engine)
            gx_suite = gx.ExpectationSuite(name=suite.name)
            for expectation in suite.expectations:
                gx_suite.add_expectation(_gx_expectation(gxe, expectation, suite.key))
            validation = batch.validate(
                gx_suite,
                result_format={"result_format": "COMPLETE", "unexpected_index_column_names": list(suite.key)},
            )
            by_name = {r.expectation_config.description: r for r in validation.results}
            results.append(SuiteResult(suite, tuple(_result(suite, e, by_name[e.name], engine) for e in suite.expectations)))
    finally:
        for engine in engines:
            # DuckDB lets a process open a file only with one configuration at a time, and GX's
            # connection carries its own; close it so the caller can open the file again.
            if getattr(engine, "_connection", None) is not None:
                engine._connection.close()
                engine._connection = None
            engine.engine.dispose()
        source.get_execution_engine().close()
        source.get_engine().dispose()
    return results


def run_suite(db: Path, suite: Suite) -> SuiteResult:
    """Validate one suite against the DuckDB file ``db``."""
    return run_suites(db, [suite])[0]

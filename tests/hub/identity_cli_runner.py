"""Calling `hub identity ...` in process, as a user would, for the tests of several packages."""

from __future__ import annotations

from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner

from hub.identity_cli import identity_app

runner = CliRunner()


def invoke(*args: str | Path) -> Result:
    """Run one `hub identity` command; a failure must be a clean exit, never a traceback."""
    result = runner.invoke(identity_app, [str(a) for a in args])
    assert "Traceback" not in result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    return result

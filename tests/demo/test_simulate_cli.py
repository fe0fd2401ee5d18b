"""`hub simulate` refuses arguments outside their domain and never leaves a partial world."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from demo import world
from hub.cli import app
from pipelines.environment import env_defaults
from warehouse.layout import HubPaths


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data root whose settings are all set here, so the CLI's defaults leak into no other test."""
    root = tmp_path / "hub"
    monkeypatch.setenv("HUB_DATA_DIR", str(root))
    for key, value in env_defaults(HubPaths(root)).items():
        monkeypatch.setenv(key, value)
    return root


def _digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(("args", "message"), [
    (["--people", "0"], "--people must be at least 50, got 0"),
    (["--people", "-5"], "--people must be at least 50, got -5"),
    (["--people", "5"], "--people must be at least 50, got 5"),
    (["--people", "300", "--seed", "-1"], "--seed must be between 0 and 2**63 - 1, got -1"),
    (["--seed", str(2**64)], f"--seed must be between 0 and 2**63 - 1, got {2**64}"),
    (["--advance-days", "0"], "--advance-days must be at least 1, got 0"),
    (["--advance-days", "-3"], "--advance-days must be at least 1, got -3"),
    (["--advance-days", "1"], "no world at "),
])
def test_bad_arguments_fail_in_one_line_and_write_nothing(data_dir: Path, args: list[str],
                                                          message: str) -> None:
    result = CliRunner().invoke(app, ["simulate", *args])
    assert result.exit_code == 2, result.output
    [line] = result.stderr.splitlines()
    assert line.startswith(f"hub simulate: {message}")
    assert result.stdout == ""
    assert not (data_dir / "world").exists()
    assert [p.name for p in data_dir.glob(".world*")] == []


def test_the_installed_command_rejects_an_empty_world(tmp_path: Path) -> None:
    hub = Path(sys.executable).parent / "hub"
    env = {**os.environ, "HUB_DATA_DIR": str(tmp_path / "hub")}
    result = subprocess.run([str(hub), "simulate", "--people", "0"], env=env, capture_output=True,
                            text=True, timeout=300, check=False)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "hub simulate: --people must be at least 50, got 0\n"
    assert not (tmp_path / "hub" / "world").exists()


def test_a_failed_generation_leaves_the_existing_world_untouched(world_copy: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (world_copy / "notes.txt").write_text("kept\n")
    before = _digests(world_copy)

    def broken(ctx: object) -> None:
        raise RuntimeError("the IoT registry is down")

    monkeypatch.setattr(world.iot, "generate", broken)  # fails after CRM, ERP and social are written
    with pytest.raises(RuntimeError, match="registry is down"):
        world.generate(world_copy, people=60, seed=5)
    assert _digests(world_copy) == before
    assert sorted(p.name for p in world_copy.parent.iterdir()) == ["world"]
    with pytest.raises(RuntimeError, match="registry is down"):
        world.generate(world_copy.parent / "new", people=60, seed=5)
    assert sorted(p.name for p in world_copy.parent.iterdir()) == ["world"]


def test_a_failed_advance_leaves_the_world_as_it_was(world_copy: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    before = _digests(world_copy)

    def broken(ctx: object, truth: object, since: object) -> None:
        raise RuntimeError("the IoT registry is down")

    monkeypatch.setattr(world.iot, "advance", broken)  # after CRM, ERP and social moved on
    with pytest.raises(RuntimeError, match="registry is down"):
        world.advance(world_copy, days=1)
    assert _digests(world_copy) == before
    assert sorted(p.name for p in world_copy.parent.iterdir()) == ["world"]


def test_regenerating_replaces_the_simulators_files_and_keeps_the_rest(world_copy: Path,
                                                                      tmp_path: Path) -> None:
    (world_copy / "notes.txt").write_text("kept\n")
    fresh = world.generate(tmp_path / "fresh", people=60, seed=5)
    assert world.generate(world_copy, people=60, seed=5) == fresh
    assert (world_copy / "notes.txt").read_text() == "kept\n"
    assert {k: v for k, v in _digests(world_copy).items() if k != "notes.txt"} \
        == _digests(tmp_path / "fresh")
    assert sorted(p.name for p in world_copy.parent.iterdir()) == ["fresh", "world"]

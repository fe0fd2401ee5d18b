"""What every `hub <group> ...` command module starts with: its command group and the one
way a command fails with a message."""

from __future__ import annotations

import typer


def command_group(help: str) -> typer.Typer:
    """A group of subcommands (`hub identity`, `hub privacy`): bare, it prints its help."""
    return typer.Typer(help=help, no_args_is_help=True, add_completion=False)


def fail(message: str, code: int = 2) -> typer.Exit:
    """``raise fail(...)``: ``error: message`` on stderr, exit ``code`` (2: bad input)."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)

"""The root's commands are built once a process (rolegraph/cli/root.py `_Commands._made`):
`app()` builds its root group anew on every call, and a program or a test calling it
again reads its arguments with the commands built the first time. Held to a fresh build
(`_Commands._build`, the path it replaces): every command of `COMMANDS`, and its listing
in the root's help, has the same name, help and parameters as one built anew, in the
markup mode of the group that asks; and commands given twice print the same, through the
same command object."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from rolegraph.cli import COMMANDS
from rolegraph.cli.root import _Commands, app

from .conftest import ROOT

GOOD = str(ROOT / "examples" / "self_refine.agent")


def _shape(command: Any) -> Any:
    """What a command is made of, as a user can see it (its name, help and parameters;
    a group's commands, each the same way)."""
    params = [
        (
            type(p).__name__,
            p.name,
            tuple(p.opts),
            tuple(p.secondary_opts),
            repr(p.default),
            p.required,
            getattr(p, "help", None),
            type(getattr(p, "type", None)).__name__,
            getattr(p, "multiple", None),
            getattr(p, "nargs", None),
            getattr(p, "envvar", None),
            getattr(p, "is_eager", None),
        )
        for p in command.params
    ]
    inner = getattr(command, "commands", None)
    commands = {name: _shape(inner[name]) for name in sorted(inner)} if inner is not None else None
    return (
        type(command).__name__,
        command.name,
        command.help,
        command.short_help,
        command.hidden,
        getattr(command, "rich_markup_mode", None),
        params,
        commands,
    )


@pytest.mark.parametrize("mode", ["rich", None])
@pytest.mark.parametrize("listed", [False, True])
def test_a_command_built_once_is_the_one_a_fresh_build_makes(mode: Any, listed: bool) -> None:
    first, again = _Commands(mode), _Commands(mode)
    first.listing = again.listing = listed
    for name in COMMANDS:
        fresh = _Commands(mode)._build(name, listed=listed)
        made = first[name]
        assert again[name] is made  # (the second group takes the first's)
        assert _shape(made) == _shape(fresh), name
        assert getattr(made, "rich_markup_mode", mode) == mode


def test_commands_given_twice_print_the_same_through_one_command() -> None:
    runner = CliRunner()
    for args in (
        ["check", GOOD],
        ["check", "--no-such-option"],
        ["search", "--help"],
        ["--help"],
    ):
        answers = [runner.invoke(app, args) for _ in range(2)]
        assert answers[0].exit_code == answers[1].exit_code, args
        assert answers[0].output == answers[1].output, args
        assert answers[0].output  # (something was printed: the command ran)
    built = [_Commands(None)["check"], _Commands(None)["check"]]
    assert built[0] is built[1]

"""The root of the command line as typer builds it: `rolegraph --help`, `--version`, and
every command, each built from its module of `rolegraph/cli/` on first use (so that
running one command imports only its own module). `main()` (__init__.py) comes here for
everything fast.py does not take."""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable, Iterator, MutableMapping
from typing import Annotated, Any

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup
from typer.models import CommandInfo, TyperInfo

from rolegraph import __version__

from . import COMMANDS, rich_help
from .exits import EXIT_OK, paused_collection

__all__ = ["app"]

rich_help.install()  # (help and usage errors: rich without its Markdown and Traceback)


class _LazyGroup(TyperGroup):
    """The root group: its commands are built from their modules on first use, so that
    running one command imports only its own module."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _Commands(self.rich_markup_mode)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

    def invoke(self, ctx: Any) -> Any:
        # A command's body ends with `SystemExit` (it is shared with fast.py); click turns
        # only its own `Exit` into a return code under `standalone_mode=False`, so that a
        # program calling `app([...], standalone_mode=False)` gets the code back.
        try:
            return super().invoke(ctx)
        except SystemExit as ended:
            code = ended.code if isinstance(ended.code, int) else 0 if ended.code is None else 1
            raise typer.Exit(code) from None

    def format_help(self, ctx: Any, formatter: Any) -> None:
        # Listing the commands needs their names and help only, not their options; rich
        # is imported here, with the collector paused (`paused_collection`).
        assert isinstance(self.commands, _Commands)
        self.commands.listing = True
        try:
            with paused_collection():
                super().format_help(ctx, formatter)
        finally:
            self.commands.listing = False


# the commands built, by name, listing or not, and how they were built (`_Commands._made`)
_MADE: dict[tuple[str, bool, Any, bool], Any] = {}


class _Commands(MutableMapping[str, Any]):
    """The click commands by name: every name of `COMMANDS` is there, built when read."""

    def __init__(self, rich_markup_mode: Any) -> None:
        self._built: dict[str, Any] = {}
        self._listed: dict[str, Any] = {}
        self._rich_markup_mode = rich_markup_mode
        self.listing = False  # (while the root's help lists the commands)

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            if name not in COMMANDS:
                raise KeyError(name)
            if self.listing:
                if name not in self._listed:
                    self._listed[name] = self._made(name, listed=True)
                return self._listed[name]
            self._built[name] = self._made(name)
        return self._built[name]

    def _made(self, name: str, *, listed: bool = False) -> Any:
        """The click command `name` (`listed`: as the root's help lists it), built once a
        process: `app()` builds its root group anew each call, and a program or a test
        that calls it again reads its arguments with the commands built the first time
        (a click command is not changed by a call: each makes its own context)."""
        key = (name, listed, self._rich_markup_mode, app.pretty_exceptions_short)
        command = _MADE.get(key)
        if command is None:
            command = self._build(name, listed=listed)
            if not listed:
                command.make_context = _paused(command.make_context)
            _MADE[key] = command
        return command

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def __iter__(self) -> Iterator[str]:
        yield from COMMANDS
        yield from (name for name in self._built if name not in COMMANDS)

    def __len__(self) -> int:
        return len(set(COMMANDS) | set(self._built))

    def _build(self, name: str, *, listed: bool = False) -> Any:
        """The click command `name`; `listed`: without its options, for the listing
        (reading a command's options evaluates every annotation: most of the cost)."""
        module = importlib.import_module(f"rolegraph.cli.{COMMANDS[name]}")
        commands: typer.Typer = module.commands
        how = dict(
            pretty_exceptions_short=app.pretty_exceptions_short,
            rich_markup_mode=self._rich_markup_mode,
        )
        if not commands.registered_commands or _is_group(commands):
            return typer.main.get_group_from_info(
                TyperInfo(commands, name=name), suggest_commands=True, **how
            )
        info = next(c for c in commands.registered_commands if _name(c) == name)
        if listed:
            return _listing(name, info, self._rich_markup_mode)
        return typer.main.get_command_from_info(info, **how)


def _listing(name: str, info: CommandInfo, rich_markup_mode: Any) -> Any:
    """A command as the root's help lists it: its name and help, as
    `typer.main.get_command_from_info` makes them, and no options."""
    help = inspect.getdoc(info.callback) if info.help is None else inspect.cleandoc(info.help)
    return TyperCommand(
        name=name,
        help=help,
        short_help=info.short_help,
        hidden=info.hidden,
        deprecated=info.deprecated,
        rich_markup_mode=rich_markup_mode,
        rich_help_panel=info.rich_help_panel,
    )


def _paused(make_context: Callable[..., Any]) -> Callable[..., Any]:
    """A command's arguments read with the garbage collector paused (`paused_collection`):
    typer's option adapters import pydantic there."""

    @functools.wraps(make_context)
    def reading(*args: Any, **kwargs: Any) -> Any:
        with paused_collection():
            return make_context(*args, **kwargs)

    return reading


def _is_group(commands: typer.Typer) -> bool:
    return not isinstance(commands.info.help, typer.models.DefaultPlaceholder)


def _name(info: CommandInfo) -> str:
    assert info.callback is not None
    return info.name or typer.main.get_command_name(info.callback.__name__)


app = typer.Typer(
    name="rolegraph",
    help="A typed, declarative language for LLM agent systems, and its compiler.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_LazyGroup,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rolegraph {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """rolegraph: parse, check, format, compile and run `.agent` files."""

"""The `portal` command group that imports a command's module only when that command runs.

`portal --help` lists every command from the table in `portal.cli.main` without importing any of them;
`portal images publish ...` imports `portal.cli.images` and nothing else of the CLI.
"""

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

_COMPLETION_PARAMS = {"install_completion", "show_completion"}


@dataclass(frozen=True)
class LazyCommand:
    """`target` is "module:attribute": a `typer.Typer` (a group of commands) or a command function."""

    target: str
    help: str


class LazyGroup(TyperGroup):
    lazy: Mapping[str, LazyCommand] = {}

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *self.lazy]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in self.lazy:
            command = self._load(cmd_name, self.lazy[cmd_name])
            self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        # Listed from the table: loading every command to show its one line would undo the point.
        rows = [(name, entry.help) for name, entry in self.lazy.items()]
        rows += [
            (name, command.get_short_help_str(limit=200))
            for name, command in self.commands.items()
            if name not in self.lazy and not command.hidden
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    @staticmethod
    def _load(name: str, entry: LazyCommand) -> Any:
        module_name, _, attribute = entry.target.partition(":")
        target = getattr(importlib.import_module(module_name), attribute)
        command: Any
        if isinstance(target, typer.Typer):
            command = typer.main.get_group(target)  # a group even while it has a single command
        else:
            single = typer.Typer(add_completion=False)
            single.command(name)(target)
            command = typer.main.get_command(single)
        command.name = name
        # Completion is installed for `portal` as a whole, not for each group.
        command.params = [p for p in command.params if p.name not in _COMPLETION_PARAMS]
        if not command.help:
            command.help = entry.help
        plain_help(command)
        return command


def plain_help(command: Any) -> None:
    """Help as plain text that wraps to the terminal: no boxes, no `<str>` or `<bool>` type tags (a flag
    takes no value; an option shows its name, e.g. `--tag TAG`, or its choices)."""
    if isinstance(command, TyperCommand | TyperGroup):
        command.rich_markup_mode = None
    for param in command.params:
        if isinstance(param, TyperOption) and param.metavar is None:
            if param.is_flag or param.count:
                param.metavar = ""
            else:
                param.metavar = _option_metavar(param)
        elif isinstance(param, TyperArgument):
            if param.metavar is None:
                param.metavar = (param.name or "value").upper()
            param.__class__ = _PlainArgument
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            plain_help(sub)


class _PlainArgument(TyperArgument):
    """An argument shown by its name alone: `ID`, not `{ID}` in the usage line and `ID <str>` below."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def _usage_display_name(self) -> str:
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return name if self.nargs == 1 else f"{name}..."


def _option_metavar(param: TyperOption) -> str:
    choices = getattr(param.type_descriptor, "choices", None) if param.type_descriptor.is_choice else None
    if choices:
        return "[" + "|".join(str(getattr(choice, "value", choice)) for choice in choices) + "]"
    longest = max(param.opts, key=len)
    return longest.lstrip("-").upper().replace("-", "_")

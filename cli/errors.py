"""One error path for every command: known problems print one clear message and exit non-zero;
anything else is a bug and keeps its traceback."""

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import OperationalError

from orchestrator.core.errors import ConfigError, LaunchdeckError

P = ParamSpec("P")
R = TypeVar("R")

err_console = Console(stderr=True, soft_wrap=True)


def friendly_errors(command: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ConfigError as exc:
            err_console.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
            raise typer.Exit(code=2) from None
        except LaunchdeckError as exc:
            err_console.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
            raise typer.Exit(code=1) from None
        except OperationalError as exc:
            err_console.print(
                f"[bold red]error:[/] cannot use the database: {escape(str(exc.orig))}. "
                "Check LAUNCHDECK_DATABASE_URL and that the server is running.",
                highlight=False,
            )
            raise typer.Exit(code=1) from None

    return wrapper

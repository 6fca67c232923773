"""The CLI's errors: each becomes one line on standard error and an exit code.

======  ==============================================================
code    meaning
======  ==============================================================
0       done
1       the hub refused the request (4xx/5xx problem details)
2       usage or input error (bad flag, unreadable or invalid file)
3       the hub could not be reached (or a port could not be opened)
======  ==============================================================
"""

from __future__ import annotations

__all__ = [
    "EXIT_REFUSED",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "CliError",
    "Refused",
    "Unreachable",
    "UsageError",
]

EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3


class CliError(Exception):
    """An error the CLI reports in one line; ``exit_code`` is the process exit code."""

    exit_code: int = EXIT_USAGE


class UsageError(CliError):
    """A bad flag, a missing setting, an unreadable or invalid input file."""

    exit_code = EXIT_USAGE


class Refused(CliError):
    """The hub answered with an error (RFC 9457 problem details)."""

    exit_code = EXIT_REFUSED

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class Unreachable(CliError):
    """No answer from the hub (or a port to listen on could not be opened)."""

    exit_code = EXIT_UNREACHABLE

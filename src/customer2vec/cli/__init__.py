"""Command line: parse, call one library function, format. No logic lives here.

Results go to stdout; logs, warnings and progress go to stderr. Bad input exits 1 with
``error: <message>``; usage errors exit 2. Each submodule registers its commands on ``cli``.
"""

from customer2vec.cli import (  # noqa: F401  (registers the commands)
    data,
    events,
    models,
    report,
    search,
    serve,
    use,
)
from customer2vec.cli._base import CliError, cli, translate_errors

__all__ = ["CliError", "cli", "translate_errors"]

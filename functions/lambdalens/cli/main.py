"""``lambdalens`` entry point: builds the argument parser from the sub-command modules.

Each sub-command module exposes ``register(subparsers)``, which adds its parser and sets
``func`` (``Callable[[argparse.Namespace], int]``) as a default; ``main`` runs it and
returns its exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from lambdalens import __version__

#: Sub-command modules, in the order ``lambdalens --help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "lambdalens.cli.parse_cmd",
    "lambdalens.cli.bootstrap_cmd",
    "lambdalens.cli.redrive_cmd",
    "lambdalens.cli.alerts_cmd",
    "lambdalens.cli.fingerprints_cmd",
    "lambdalens.cli.trace_cmd",
    "lambdalens.cli.logs_cmd",
    "lambdalens.cli.dashboards_cmd",
    "lambdalens.cli.demo_cmd",
    "lambdalens.cli.bench_cmd",
    "lambdalens.cli.opensearch_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lambdalens",
        description="Log observability for AWS Lambda: parse, index, alert, trace.",
    )
    parser.add_argument("--version", action="version", version=f"lambdalens {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(func(args))
    except KeyboardInterrupt:
        print("lambdalens: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The lambdalens CDK app.

With the CDK CLI (``cdk synth`` / ``cdk deploy``, see ``cdk.json``) the context comes from
``cdk.json`` and ``-c key=value``. Run directly (``python infra/app.py [-c key=value ...]``, as
``make synth`` does) it reads the same ``cdk.json`` context itself and writes ``cdk.out/``.
Neither needs AWS credentials or Docker. The Lambda asset is built from a local wheelhouse
(downloaded once from the package index); run directly without one and without an index, the
app synthesizes the templates (and runs cdk-nag) without building the asset, and says so.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from aws_cdk import App

from lambdalens_infra import ConfigError, build_app
from lambdalens_infra.bundling import Wheelhouse
from lambdalens_infra.config import LAMBDA_RUNTIMES, PipelineConfig

ROOT = Path(__file__).resolve().parent.parent
SKIP_BUNDLING = "aws:cdk:bundling-stacks"


def direct_context(argv: list[str]) -> dict[str, Any]:
    """``cdk.json`` context overridden by ``-c key=value`` arguments.

    Values stay strings, as with the CDK CLI (lambdalens converts its own settings); CDK's own
    ``aws:cdk:*`` keys are read as JSON when they parse (``-c aws:cdk:bundling-stacks=[]``).
    """
    context: dict[str, Any] = dict(json.loads((ROOT / "cdk.json").read_text()).get("context", {}))
    # What the CDK CLI sets by default: construct paths in template metadata (read by the checks).
    context.setdefault("aws:cdk:enable-path-metadata", True)
    args = iter(argv)
    for arg in args:
        if arg in ("-c", "--context"):
            pair = next(args, "")
        elif arg.startswith("--context="):
            pair = arg.removeprefix("--context=")
        else:
            raise SystemExit(f"usage: app.py [-c key=value ...]; unexpected argument {arg!r}")
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"-c expects key=value, got {pair!r}")
        context[key] = _cdk_value(value) if key.startswith("aws:cdk:") else value
    return context


def _cdk_value(value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def prepare_bundling(context: dict[str, Any]) -> str | None:
    """Make sure the wheelhouse is complete; if it cannot be, skip bundling and return why."""
    if SKIP_BUNDLING in context:
        return None
    field = PipelineConfig.__dataclass_fields__["lambda_runtime"]
    runtime = str(context.get(field.metadata["key"], field.default))
    if runtime not in LAMBDA_RUNTIMES:
        return None  # the configuration check reports it
    wheelhouse = Wheelhouse(runtime.removeprefix("python"))
    ok, error = wheelhouse.fetch()
    if ok:
        return None
    context[SKIP_BUNDLING] = []
    last = error.strip().splitlines()[-1:] or ["no output"]
    return (
        f"the Lambda dependencies are not in {wheelhouse.directory.relative_to(ROOT)} and could not be "
        f"downloaded ({last[0]}); synthesized the templates and ran cdk-nag WITHOUT building the Lambda "
        "asset. Run again with access to a package index (or `cdk deploy`, which requires it) to build it."
    )


def main(argv: list[str]) -> int:
    under_cli = "CDK_CONTEXT_JSON" in os.environ or "CDK_OUTDIR" in os.environ
    warning = None
    if under_cli:
        app = App()
    else:
        context = direct_context(argv)
        warning = prepare_bundling(context)
        app = App(context=context, outdir=str(ROOT / "cdk.out"))
    try:
        build_app(app)
        assembly = app.synth()
    except ConfigError as error:
        print(f"lambdalens: invalid configuration: {error}", file=sys.stderr)
        return 2
    if not under_cli:
        for stack in assembly.stacks:
            print(f"synthesized {stack.stack_name}: {Path(stack.template_full_path).relative_to(ROOT)}")
            # What the CDK CLI would print: the construct warnings.
            for message in stack.messages:
                if str(message.level).lower().endswith("warning"):
                    print(f"warning: {message.id}: {message.entry.data}", file=sys.stderr)
        print("cdk-nag AwsSolutions: no unacknowledged findings")
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

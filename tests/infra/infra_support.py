"""Synthesize the lambdalens CDK app for assertion tests (bundling skipped: fast, offline).

A uniquely named module (tests/ has no packages); it puts ``infra/`` on ``sys.path``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "infra") not in sys.path:
    sys.path.insert(0, str(ROOT / "infra"))

from aws_cdk import App  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

from lambdalens_infra import build_app  # noqa: E402

#: What the CDK CLI would pass, minus bundling (assertion tests never build the asset).
TEST_CONTEXT: dict[str, Any] = {"aws:cdk:bundling-stacks": [], "aws:cdk:enable-path-metadata": True}


def cdk_json_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    return context


def make_app(overrides: dict[str, Any] | None = None) -> App:
    """The app as ``cdk synth`` builds it from cdk.json, with ``-c``-style overrides (not synthesized)."""
    return build_app(App(context={**cdk_json_context(), **TEST_CONTEXT, **(overrides or {})}))


@dataclass
class Synthesized:
    app: App
    templates: dict[str, dict[str, Any]]

    def template(self, stack: str = "LambdaLens") -> Template:
        return Template.from_json(self.templates[stack])

    def resources(self, resource_type: str, stack: str = "LambdaLens") -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.templates[stack]["Resources"].items()
            if resource["Type"] == resource_type
        }

    def path_of(self, logical_id: str, stack: str = "LambdaLens") -> str:
        return str(self.templates[stack]["Resources"][logical_id]["Metadata"]["aws:cdk:path"])

    def logical_id(
        self, path_suffix: str, resource_type: str | None = None, stack: str = "LambdaLens"
    ) -> str:
        matches = [
            logical_id
            for logical_id, resource in self.templates[stack]["Resources"].items()
            if resource.get("Metadata", {}).get("aws:cdk:path", "").endswith(path_suffix)
            and (resource_type is None or resource["Type"] == resource_type)
        ]
        assert len(matches) == 1, f"{path_suffix}: {matches}"
        return str(matches[0])


def synthesize(overrides: dict[str, Any] | None = None) -> Synthesized:
    """Synthesize once (cdk-nag runs, and raises on any unacknowledged finding)."""
    app = make_app(overrides)
    assembly = app.synth()
    return Synthesized(app=app, templates={stack.stack_name: stack.template for stack in assembly.stacks})

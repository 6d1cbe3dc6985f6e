"""The Lambda code asset, built locally without Docker.

The parser, bootstrap and subscriber functions share one asset: the ``lambdalens`` package plus
its runtime dependencies pinned in ``functions/requirements-lambda.txt``, installed as
manylinux aarch64 wheels for the runtime's CPython (``pip install --platform ...
--only-binary=:all:``), so a synth on x86_64 without Docker produces an arm64 bundle.
boto3/botocore are not bundled: the Lambda Python runtime provides them.

The wheels are downloaded once into ``build/wheelhouse/<platform>-cp3XX/`` and installed from
there with ``--no-index``: after the first synth with access to a package index, bundling works
offline.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Final

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

ROOT: Final = Path(__file__).resolve().parents[2]
#: ``functions/`` of the repository (the asset's source directory).
FUNCTIONS_DIR: Final = ROOT / "functions"
#: Downloaded wheels, one directory per platform and Python version (git-ignored ``build/``).
WHEELHOUSE: Final = ROOT / "build" / "wheelhouse"
REQUIREMENTS: Final = "requirements-lambda.txt"
PACKAGE: Final = "lambdalens"
PLATFORM: Final = "manylinux2014_aarch64"

#: Never part of the asset (nor of its hash): caches and build metadata.
ASSET_EXCLUDES: Final = ["**/__pycache__", "**/*.pyc", "*.egg-info", "**/.mypy_cache", "**/.pytest_cache"]
#: Left out of the bundle's copy of the package (caches; nothing the handlers import: the local
#: OpenSearch node, its Java launcher and pom, only ever run on a developer's machine).
_COPY_IGNORE: Final = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "local_opensearch")
#: Left out of the installed dependencies: console scripts are never run in Lambda.
_DEPENDENCY_PRUNE: Final = ("bin",)


class BundlingError(RuntimeError):
    """Local bundling failed; the message says what pip printed."""


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def pinned_requirements(path: Path = FUNCTIONS_DIR / REQUIREMENTS) -> list[tuple[str, str]]:
    """``(name, version)`` of every ``name==version`` line (comments and blanks skipped)."""
    pins: list[tuple[str, str]] = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep or not version.strip():
            raise BundlingError(f"{path.name}: {line!r} is not an exact pin (name==version)")
        pins.append((name.strip(), version.strip()))
    return pins


def _platform_args(python_version: str) -> list[str]:
    return [
        "--platform",
        PLATFORM,
        "--only-binary=:all:",
        "--python-version",
        python_version,
        "--implementation",
        "cp",
        "--no-deps",  # the requirements file pins the whole closure
    ]


class Wheelhouse:
    """The downloaded wheels for one Python version of the Lambda runtime."""

    def __init__(
        self, python_version: str, root: Path = WHEELHOUSE, source_dir: Path = FUNCTIONS_DIR
    ) -> None:
        self.python_version = python_version
        self.directory = root / f"{PLATFORM}-cp{python_version.replace('.', '')}"
        self.requirements = source_dir / REQUIREMENTS

    def missing(self) -> list[str]:
        """Pins without a wheel in the wheelhouse."""
        present = {
            tuple(_normalize(part) for part in wheel.name.split("-")[:2])
            for wheel in self.directory.glob("*.whl")
        }
        return [
            f"{name}=={version}"
            for name, version in pinned_requirements(self.requirements)
            if (_normalize(name), _normalize(version)) not in present
        ]

    def fetch(self) -> tuple[bool, str]:
        """Download the missing wheels (needs a package index); ``(ok, pip's error output)``."""
        if not self.missing():
            return True, ""
        self.directory.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--retries",
            "2",
            *_platform_args(self.python_version),
            "--dest",
            str(self.directory),
            "-r",
            str(self.requirements),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0 or self.missing():
            return False, done.stderr[-2000:]
        return True, ""


@jsii.implements(ILocalBundling)
class LocalPythonBundler:
    """Build the asset in ``output_dir`` from the wheelhouse and a copy of the package (no Docker).

    Parameters
    ----------
    python_version:
        ``3.12``, ``3.13`` or ``3.14``: the runtime whose wheels are installed.
    source_dir:
        The ``functions/`` directory (package + requirements file).
    """

    def __init__(
        self, python_version: str, source_dir: Path = FUNCTIONS_DIR, wheelhouse: Wheelhouse | None = None
    ) -> None:
        self.python_version = python_version
        self.source_dir = source_dir
        self.wheelhouse = wheelhouse or Wheelhouse(python_version, source_dir=source_dir)

    def pip_command(self, output_dir: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",  # .pyc of the build interpreter would not match the runtime's
            "--no-index",
            "--find-links",
            str(self.wheelhouse.directory),
            *_platform_args(self.python_version),
            "--target",
            output_dir,
            "-r",
            str(self.source_dir / REQUIREMENTS),
        ]

    def try_bundle(self, output_dir: str, *_options: Any, **_kwargs: Any) -> bool:
        """Install the dependencies and copy the package; raise :class:`BundlingError` on failure.

        Raising (rather than returning ``False``) keeps CDK from falling back to Docker, which
        is not available where lambdalens is synthesized.
        """
        ok, error = self.wheelhouse.fetch()
        if not ok:
            raise BundlingError(
                f"the Lambda dependencies ({REQUIREMENTS}) for {PLATFORM} / CPython {self.python_version} are "
                f"not in {self.wheelhouse.directory} and could not be downloaded (no access to a package "
                f"index?); missing: {', '.join(self.wheelhouse.missing())}\n{error}"
            )
        done = subprocess.run(self.pip_command(output_dir), capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BundlingError(
                f"pip could not install {REQUIREMENTS} (exit {done.returncode}):\n{done.stderr[-2000:]}"
            )
        out = Path(output_dir)
        for name in _DEPENDENCY_PRUNE:
            shutil.rmtree(out / name, ignore_errors=True)
        shutil.copytree(self.source_dir / PACKAGE, out / PACKAGE, ignore=_COPY_IGNORE, dirs_exist_ok=True)
        return True


def lambda_code(runtime: lambda_.Runtime) -> lambda_.Code:
    """The shared asset for ``runtime`` (``python3.X``), bundled locally.

    Assertion tests skip bundling with ``App(context={"aws:cdk:bundling-stacks": []})``.
    """
    python_version = runtime.name.removeprefix("python")
    return lambda_.Code.from_asset(
        str(FUNCTIONS_DIR),
        exclude=ASSET_EXCLUDES,
        bundling=BundlingOptions(
            # Never pulled: the local bundler always succeeds or raises.
            image=DockerImage.from_registry(f"public.ecr.aws/sam/build-{runtime.name}"),
            local=LocalPythonBundler(python_version),
        ),
    )

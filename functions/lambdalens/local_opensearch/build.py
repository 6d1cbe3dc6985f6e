"""Build the local OpenSearch node once: find Java 17+ and Maven, resolve the pinned jars from
Maven Central with ``java/pom.xml``, compile ``LocalNode`` and cache the result.

The cache lives in ``$LAMBDALENS_CACHE`` (default ``~/.cache/lambdalens``), one folder per
content hash of the Maven project, so an edited pom or launcher builds anew and an unchanged one
starts without Maven. The jars themselves stay in Maven's own repository (``~/.m2``).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Final

#: The OpenSearch version ``java/pom.xml`` pins (checked against it in the tests).
OPENSEARCH_VERSION: Final = "2.19.6"
#: Oldest Java that OpenSearch 2.19 runs on.
MIN_JAVA: Final = 17
#: Environment variable naming the cache folder.
CACHE_ENV: Final = "LAMBDALENS_CACHE"
MAIN_CLASS: Final = "dev.lambdalens.opensearch.LocalNode"
_PROJECT_FILES: Final = (
    "pom.xml",
    "log4j2.properties",
    "src/main/java/dev/lambdalens/opensearch/LocalNode.java",
)
_MAVEN_TIMEOUT_S: Final = 900


class EngineUnavailable(RuntimeError):
    """The local OpenSearch cannot be built or started; the message is one line saying what to do."""


@dataclass(frozen=True)
class NodeBuild:
    """A built node: the Java to run it with and its class path."""

    java: str
    java_major: int
    classpath: str
    log_config: Path
    folder: Path


def java_command() -> tuple[str, int]:
    """``$JAVA_HOME/bin/java`` or ``java`` on PATH, and its major version; 17+ or EngineUnavailable."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).exists():
        raise EngineUnavailable(
            f"the local OpenSearch needs Java {MIN_JAVA} or newer and no `java` was found: "
            "install a JDK (e.g. apt-get install openjdk-17-jdk-headless) or set JAVA_HOME"
        )
    major = java_major(java)
    if major < MIN_JAVA:
        raise EngineUnavailable(
            f"the local OpenSearch needs Java {MIN_JAVA} or newer, {java} is Java {major}: "
            "install a JDK 17+ or point JAVA_HOME at one"
        )
    return java, major


def java_major(java: str) -> int:
    """The major version ``java -version`` reports (``1.8`` → 8, ``17.0.15`` → 17)."""
    out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60).stderr
    found = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if found is None:
        raise EngineUnavailable(f"cannot tell the Java version of {java}: {out.strip()[:120]!r}")
    first, second = int(found.group(1)), int(found.group(2) or 0)
    return second if first == 1 else first


def maven_command() -> str:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise EngineUnavailable(
            f"building the local OpenSearch {OPENSEARCH_VERSION} needs Maven (`mvn`) to fetch its jars "
            "from Maven Central: install it (e.g. apt-get install maven)"
        )
    return mvn


def cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "lambdalens")


def project_hash() -> str:
    digest = hashlib.sha256()
    project = resources.files(__package__) / "java"
    for name in _PROJECT_FILES:
        digest.update(name.encode() + b"\0" + project.joinpath(name).read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def build_folder() -> Path:
    """The cache folder of this version of the Maven project (built or not)."""
    return cache_root() / f"opensearch-{OPENSEARCH_VERSION}-{project_hash()}"


def is_built() -> bool:
    """Whether the node is built already, so that starting it needs no Maven."""
    return _complete(build_folder())


def ensure_built(log: Callable[[str], None] | None = None) -> NodeBuild:
    """The cached build, made first if missing (under a file lock: concurrent callers build once)."""
    java, major = java_command()
    folder = build_folder()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _complete(folder):
            mvn = maven_command()
            if log is not None:
                log(f"building the local OpenSearch {OPENSEARCH_VERSION} (first use: Maven fetches its jars)")
            _build(folder, mvn)
    jar = folder / "target" / f"local-opensearch-{OPENSEARCH_VERSION}.jar"
    classpath = f"{jar}{os.pathsep}{(folder / 'classpath.txt').read_text().strip()}"
    return NodeBuild(java, major, classpath, folder / "log4j2.properties", folder)


def _complete(folder: Path) -> bool:
    listing = folder / "classpath.txt"
    if (
        not listing.exists()
        or not (folder / "target" / f"local-opensearch-{OPENSEARCH_VERSION}.jar").exists()
    ):
        return False
    return all(Path(entry).exists() for entry in listing.read_text().strip().split(os.pathsep))


def _build(folder: Path, mvn: str) -> None:
    project = resources.files(__package__) / "java"
    for name in _PROJECT_FILES:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(project.joinpath(name).read_bytes())
    command = [mvn, "-q", "-B", "-f", str(folder / "pom.xml"), "package", "dependency:build-classpath"]
    command.append(f"-Dmdep.outputFile={folder / 'classpath.txt'}")
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=_MAVEN_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise EngineUnavailable(
            f"Maven did not finish within {_MAVEN_TIMEOUT_S} s building {folder}"
        ) from exc
    if done.returncode != 0:
        errors = [line for line in done.stdout.splitlines() if "ERROR" in line] or done.stdout.splitlines()
        first = errors[0].strip() if errors else done.stderr.strip()[:200]
        raise EngineUnavailable(f"Maven could not build the local OpenSearch ({folder / 'pom.xml'}): {first}")

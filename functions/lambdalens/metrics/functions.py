"""What lambdalens knows of a monitored function's configuration, cached across invocations.

Architecture (for prices), configured timeout (for ``near_timeout`` alerts) and memory size
come from, in this order: ``FUNCTION_ARCHITECTURES`` (architecture only), a cached
``lambda:GetFunctionConfiguration``, then defaults (``x86_64``, timeout unknown). A denied or
failed call is cached too (for the same TTL) and said once per function in the log, so a
missing permission costs one call per function per TTL, not one per batch.

Create one :class:`FunctionConfigCache` at module scope of the handler so it outlives a
single invocation of the parser Lambda.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lambdalens.metrics.settings import normalize_architecture

logger = logging.getLogger(__name__)

DEFAULT_ARCHITECTURE = "x86_64"


@dataclass(frozen=True, slots=True)
class FunctionConfig:
    """A monitored function's configuration as far as lambdalens knows it.

    ``source`` says where the architecture came from: ``env``, ``api`` or ``default``
    (x86_64 assumed).
    """

    name: str
    architecture: str = DEFAULT_ARCHITECTURE
    timeout_s: float | None = None
    memory_mb: int | None = None
    source: str = "default"


def function_arn(name: str, account: str | None, region: str | None) -> str:
    """The unqualified ARN when account and region are known, else the bare name."""
    if not (account and region):
        return name
    partition = (
        "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"
    )
    return f"arn:{partition}:lambda:{region}:{account}:function:{name}"


class FunctionConfigCache:
    """Per-function configuration with a TTL cache around ``GetFunctionConfiguration``.

    Parameters
    ----------
    lambda_client:
        A boto3 Lambda client, or None to never call the API.
    architectures:
        ``FUNCTION_ARCHITECTURES``: name -> architecture, wins over the API's answer.
    ttl_seconds:
        How long an answer (or a failure) is reused.
    clock:
        Monotonic seconds; injectable for tests.
    """

    def __init__(
        self,
        lambda_client: Any | None = None,
        architectures: Mapping[str, str] | None = None,
        ttl_seconds: float = 900,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = lambda_client
        self._architectures = dict(architectures or {})
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, FunctionConfig]] = {}
        self._warned: set[str] = set()
        self.api_calls = 0

    def get(self, name: str, account: str | None = None, region: str | None = None) -> FunctionConfig:
        """The configuration of function ``name`` (never raises)."""
        key = function_arn(name, account, region)
        now = self._clock()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        config = self._fetch(name, key)
        self._cache[key] = (now + self._ttl, config)
        return config

    def _fetch(self, name: str, key: str) -> FunctionConfig:
        env_arch = self._architectures.get(name)
        api: dict[str, Any] | None = None
        error = "no Lambda client"
        if self._client is not None:
            self.api_calls += 1
            try:
                api = self._client.get_function_configuration(FunctionName=key)
            except Exception as exc:  # denied, not found, throttled, network: all mean "unknown"
                code = (
                    getattr(exc, "response", {}).get("Error", {}).get("Code")
                    if hasattr(exc, "response")
                    else None
                )
                error = f"{code or type(exc).__name__}: {exc}"
        if api is None:
            if env_arch is None and name not in self._warned:
                self._warned.add(name)
                logger.warning(
                    "lambdalens: GetFunctionConfiguration for %s failed (%s); assuming %s prices and an unknown timeout",
                    key,
                    error,
                    DEFAULT_ARCHITECTURE,
                )
            return FunctionConfig(
                name, env_arch or DEFAULT_ARCHITECTURE, source="env" if env_arch else "default"
            )
        archs = api.get("Architectures") or [DEFAULT_ARCHITECTURE]
        api_arch = normalize_architecture(archs[0]) if archs else None
        timeout = api.get("Timeout")
        memory = api.get("MemorySize")
        return FunctionConfig(
            name,
            env_arch or api_arch or DEFAULT_ARCHITECTURE,
            float(timeout) if isinstance(timeout, int | float) else None,
            int(memory) if isinstance(memory, int) else None,
            "env" if env_arch else "api",
        )

"""The local stand-ins: moto's AWS server and the OpenSearch stand-in, on 127.0.0.1 only,
stopped when the ``with`` block ends — also on Ctrl-C or SIGTERM."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from types import FrameType
from typing import Any

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "demo",
    "AWS_SECRET_ACCESS_KEY": "demo",
    "AWS_SESSION_TOKEN": "demo",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@dataclass
class LocalServers:
    aws_url: str
    opensearch_url: str


@contextmanager
def local_servers() -> Iterator[LocalServers]:
    """Start both servers and point boto3 at moto (``AWS_ENDPOINT_URL``); restore everything after."""
    import logging

    from moto.server import ThreadedMotoServer
    from osmem_server import OsmemServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    saved = {k: os.environ.get(k) for k in [*FAKE_CREDENTIALS, "AWS_ENDPOINT_URL", "AWS_PROFILE"]}
    previous_term = signal.getsignal(signal.SIGTERM)

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    moto: Any = None
    osmem: Any = None
    with suppress(ValueError):  # not the main thread: no signal handler, Ctrl-C still works
        signal.signal(signal.SIGTERM, on_term)
    try:
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto.start()
        host, port = moto.get_host_and_port()
        osmem = OsmemServer.start(addr="127.0.0.1:0", japanese=False)
        os.environ.update(FAKE_CREDENTIALS)
        os.environ.pop("AWS_PROFILE", None)
        os.environ["AWS_ENDPOINT_URL"] = f"http://{host}:{port}"
        yield LocalServers(aws_url=f"http://{host}:{port}", opensearch_url=osmem.url)
    finally:
        if osmem is not None:
            osmem.close()
        if moto is not None:
            moto.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        with suppress(ValueError):
            signal.signal(signal.SIGTERM, previous_term)

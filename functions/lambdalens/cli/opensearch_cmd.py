"""``lambdalens opensearch``: a real single-node OpenSearch on 127.0.0.1, in the foreground.

Prints one ready line with its URL and version, then serves until Ctrl-C or SIGTERM, and stops
leaving no process or port behind. Needs Java 17+ (and Maven on first use, to fetch the jars).
"""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType

import orjson

from lambdalens.cli.argtypes import non_negative_int


def setting(text: str) -> tuple[str, str]:
    """``key=value`` of ``-E``."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    return key, value


setting.__name__ = "_setting"


def run(args: argparse.Namespace) -> int:
    from lambdalens.local_opensearch import EngineUnavailable, LocalOpenSearch

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        node = LocalOpenSearch.start(
            port=args.port,
            data=args.data,
            settings=dict(args.settings),
            heap=args.heap,
            log=lambda message: print(f"· {message}", file=sys.stderr, flush=True),
        )
    except EngineUnavailable as exc:
        print(f"lambdalens opensearch: {exc}", file=sys.stderr)
        return 1
    try:
        print(ready_line(node, as_json=args.json), flush=True)
        code = node.process.wait()
        print(f"lambdalens opensearch: the node exited ({code}); see {node.home / 'logs'}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        node.close()
        print("lambdalens opensearch: stopped", file=sys.stderr)
        return 0
    finally:
        node.close()


def ready_line(node: object, *, as_json: bool) -> str:
    from lambdalens.local_opensearch import LocalOpenSearch

    assert isinstance(node, LocalOpenSearch)
    facts = {
        "url": node.url,
        **node.engine.as_dict(),
        "pid": node.pid,
        "startup_s": node.startup_s,
        "rss_mb": node.rss_mb(),
    }
    if as_json:
        return orjson.dumps(facts).decode()
    return (
        f"OpenSearch {node.engine.version} ready at {node.url} (build {node.engine.build_hash[:7]}, pid {node.pid},"
        f" started in {node.startup_s:.1f} s, {facts['rss_mb']:.0f} MB RSS); Ctrl-C stops it"
    )


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "opensearch", help="run a real single-node OpenSearch on 127.0.0.1 (Java 17+)", description=__doc__
    )
    p.add_argument(
        "--port", type=non_negative_int, default=9200, help="HTTP port (default 9200; 0: any free port)"
    )
    p.add_argument(
        "--data", metavar="DIR", help="keep the node's data and logs in DIR (default: a temporary folder)"
    )
    p.add_argument(
        "--heap", metavar="SIZE", help="JVM heap, e.g. 1g (default 512m, or $LAMBDALENS_OPENSEARCH_HEAP)"
    )
    p.add_argument(
        "-E",
        dest="settings",
        metavar="KEY=VALUE",
        type=setting,
        action="append",
        default=[],
        help="a node setting, e.g. -E thread_pool.write.queue_size=10 (repeatable)",
    )
    p.add_argument("--json", action="store_true", help="print the ready line as one JSON object")
    p.set_defaults(func=run)

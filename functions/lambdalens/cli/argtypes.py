"""``type=`` callables for argparse options that refuse out-of-range numbers with the
message argparse prints after the option's name (exit status 2).

argparse names the callable in the message for text that is not a number at all
(``argument --shards: invalid _positive value: 'x'``), so each keeps the ``__name__`` the
commands have always printed.
"""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    """An integer of 1 or more."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """An integer of 0 or more."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def positive_seconds(text: str) -> float:
    """A number of seconds above 0."""
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


positive_int.__name__ = "_positive"
non_negative_int.__name__ = "_non_negative"
positive_seconds.__name__ = "_seconds"

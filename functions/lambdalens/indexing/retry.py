"""The indexer's retry policy: :class:`~lambdalens.retry.Backoff` within a
:class:`~lambdalens.retry.Deadline`, shared with the alert publisher (see :mod:`lambdalens.retry`)."""

from lambdalens.retry import Backoff, Deadline

__all__ = ["Backoff", "Deadline"]

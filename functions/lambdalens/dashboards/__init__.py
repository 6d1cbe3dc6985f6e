"""OpenSearch Dashboards views of the lambdalens indices: saved objects, import, links.

The saved objects (an index pattern with field formats and scripted fields, saved searches,
visualisations and the dashboards **Lambda overview** and **Function drill-down**) are built
from one Python definition (:mod:`~lambdalens.dashboards.catalog`) for an index prefix, with
stable ids (:mod:`~lambdalens.dashboards.ids`), and written as the ``.ndjson`` Dashboards 2.x
exports and imports (:mod:`~lambdalens.dashboards.saved_objects`).
:mod:`~lambdalens.dashboards.checks` validates a file, :mod:`~lambdalens.dashboards.importer`
imports it through the saved-objects API, :mod:`~lambdalens.dashboards.links` builds the URLs
alerts and the CLI print, :mod:`~lambdalens.dashboards.dsl` turns a visualisation into the
query Dashboards sends (tests and ``lambdalens dashboards preview`` run it).

Example::

    from lambdalens.dashboards import export_ndjson
    data = export_ndjson("lambda-logs")  # bytes of lambdalens-dashboards.ndjson
"""

from __future__ import annotations

from collections.abc import Iterable

from lambdalens.dashboards.catalog import build
from lambdalens.dashboards.model import Catalog
from lambdalens.dashboards.saved_objects import saved_objects, to_ndjson
from lambdalens.indexing.bulk_body import DEFAULT_INDEX_PREFIX
from lambdalens.metrics.pricing import DEFAULT_PRICES, PriceTable


def export_ndjson(
    prefix: str = DEFAULT_INDEX_PREFIX, *, prices: PriceTable = DEFAULT_PRICES, arm64: Iterable[str] = ()
) -> bytes:
    """The export file of every object for ``<prefix>-*``."""
    return to_ndjson(saved_objects(build(prefix, prices=prices, arm64=arm64)))


__all__ = ["Catalog", "build", "export_ndjson", "saved_objects", "to_ndjson"]

"""The drill-down: the records behind a KPI's value (KPI pages), for KPIs that declare
``drilldown_sql``."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from django.db import connection

from ingestion.csvfiles import csv_line
from kpis.models import KpiSettings
from kpis.registry import Kpi, Query


DRILLDOWN_PAGE_SIZE = 50


def kpi_has_drilldown(kpi: Kpi) -> bool:
    return kpi.drilldown_sql is not None


class DrilldownRows:
    """The drill-down rows of one KPI, period, segment value and band, for Django's
    Paginator: ``count()`` is known from the band counts, and a slice runs one query with
    LIMIT / OFFSET. ``columns`` holds the headings once a slice has been read."""

    def __init__(self, sql: str, params: dict, total: int):
        self.sql, self.params, self.total, self.columns = sql, params, total, []

    def count(self) -> int:
        return self.total

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, window: slice) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(f"{self.sql} LIMIT %(limit)s OFFSET %(offset)s",
                           {**self.params, "limit": window.stop - window.start, "offset": window.start})
            self.columns = [column.name for column in cursor.description[2:]]
            return [row[1:] for row in cursor.fetchall()]  # the band, then the columns


def _drilldown_query(kpi: Kpi, *, since: date, until: date, segment: str | None, value: str, band: str,
                     settings: dict) -> tuple[str, dict]:
    """The drill-down SQL of ``kpi`` for the local days [since, until), filtered by band
    ('' for all), newest first, and its parameters."""
    query = Query(since=since, until=until, time_zone=connection.tenant.time_zone, settings=settings)
    sql = (f"SELECT * FROM ({kpi.drilldown_sql(segment)}) rows "
           f"WHERE %(band)s = '' OR band = %(band)s ORDER BY 1 DESC, 3")
    return sql, query.params(segment_value=value, band=band)


def kpi_drilldown(*, kpi: Kpi, since: date, until: date, segment: str | None = None, value: str = "",
                  band: str = "", settings=None) -> tuple[dict[str, int], DrilldownRows]:
    """The records behind ``kpi``'s value for the local days [since, until) (one segment
    value when ``segment`` is given): the number of rows per band, and the rows of ``band``
    ('' for all) to paginate. Two queries whatever the page."""
    settings = (settings or KpiSettings.load()).as_params()
    sql, params = _drilldown_query(kpi, since=since, until=until, segment=segment, value=value, band=band,
                                   settings=settings)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT band, count(*) FROM ({kpi.drilldown_sql(segment)}) rows GROUP BY 1 ORDER BY 1", params)
        bands = dict(cursor.fetchall())
    total = sum(bands.values()) if not band else bands.get(band, 0)
    return bands, DrilldownRows(sql, params, total)


def kpi_drilldown_csv(*, kpi: Kpi, since: date, until: date, segment: str | None = None, value: str = "",
                      band: str = "", settings=None) -> Iterator[str]:
    """The whole drill-down list as CSV lines (band first, then the columns shown), read
    through a server-side cursor in chunks; every cell through ``csv_safe`` (formula
    injection)."""
    sql, params = _drilldown_query(kpi, since=since, until=until, segment=segment, value=value, band=band,
                                   settings=(settings or KpiSettings.load()).as_params())
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        yield csv_line([kpi.drilldown_band, *(column.name for column in cursor.description[2:])])
        while rows := cursor.fetchmany(2000):
            yield "".join(csv_line(list(row[1:])) for row in rows)


"""`obook venues`: the table of venues and each one's details."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from orderbook_cli.views.layout import Column, fit_columns
from orderbook_cli.views.layout import rows as table_rows
from orderbook_cli.views.terminal import console


def print_venues(rows: list[dict]) -> None:
    """A table that fits 80 columns (short cells only; narrower, it drops whole columns),
    then each venue's details,
    wrapped under its id rather than back to the left margin. No line ends in the
    spaces that pad its cells (`obook venues | awk` reads clean lines)."""
    out = console()
    with out.capture() as captured:
        _print_tables(out, rows)
    out.file.write("".join(line.rstrip(" ") + "\n" for line in captured.get().splitlines()))
    out.file.flush()


GAP = 2  # spaces between the table's columns
SHOWN = ("venue", "transport", "auth", "depth", "symbol")  # left to right
KEPT_FIRST = ("venue", "depth", "transport", "auth", "symbol")  # on a narrow terminal the last go first, whole


def _print_tables(out: Console, rows: list[dict]) -> None:
    cells = {"venue": [Text(row["id"], style="bold") for row in rows],
             "transport": [Text(row["transport"]) for row in rows], "auth": [Text(row["auth"]) for row in rows],
             "depth": [Text(f"{row['default_depth']} (max {row['max_depth'] or 'all'})") for row in rows],
             "symbol": [Text(row["symbol_format"]) for row in rows]}
    columns = [Column(title, cells[title], right=False, rank=KEPT_FIRST.index(title)) for title in SHOWN]
    kept = fit_columns(columns, out.width, GAP) or columns[:1]  # a column goes whole rather than a cell be cut ("20 (max …")
    titles, lines = table_rows(kept, len(rows), GAP)
    for line in (titles, *lines):
        out.print(line)
    out.print()
    details = Table.grid(padding=(0, 2, 1, 0))
    details.add_column(no_wrap=True)
    details.add_column(overflow="fold")
    for row in rows:
        text = Text(row["name"], style="bold")
        if row.get("summary"):
            text.append(f": {row['summary']}")
        text.append(f"\n{row['endpoint']} (override: {row['endpoint_env']})", style="dim")
        if row.get("credentials"):
            unusable = row.get("credentials_state") == "unusable"
            text.append(f"\ncredentials: {row['credentials']}", style="yellow" if unusable else "")  # the JSON value says it without its name
        details.add_row(Text(row["id"], style="bold"), text)
    out.print(details)

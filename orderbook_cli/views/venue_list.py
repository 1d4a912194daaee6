"""`obook venues`: the table of venues and each one's details."""

from __future__ import annotations

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

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


COLUMNS = ("venue", "transport", "auth", "depth", "symbol")
UNBOUNDED = 10_000  # measured at its natural width, not the terminal's
DROPPED_FIRST = ("symbol", "auth", "transport", "depth")  # on a narrow terminal: the venue stays, and its depth while it fits


def _table(rows: list[dict], columns: tuple[str, ...]) -> Table:
    table = Table(header_style="bold", box=None, padding=(0, 2, 0, 0), pad_edge=False)  # no padding after the last column
    for title in columns:
        table.add_column(title, no_wrap=True)
    for row in rows:
        cells = {"venue": Text(row["id"], style="bold"), "transport": Text(row["transport"]), "auth": Text(row["auth"]),
                 "depth": Text(f"{row['default_depth']} (max {row['max_depth'] or 'all'})"), "symbol": Text(row["symbol_format"])}
        table.add_row(*[cells[title] for title in columns])
    return table


def _print_tables(out: Console, rows: list[dict]) -> None:
    columns: tuple[str, ...] = COLUMNS
    table = _table(rows, columns)
    for dropped in DROPPED_FIRST:  # a column goes whole rather than a cell be cut ("20 (max …")
        if Measurement.get(out, out.options.update(max_width=UNBOUNDED), table).maximum <= out.width:
            break
        columns = tuple(title for title in columns if title != dropped)
        table = _table(rows, columns)
    out.print(table)
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

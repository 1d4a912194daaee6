"""`obook venues`: the table of venues and each one's details."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from orderbook_cli.views.terminal import console


def print_venues(rows: list[dict]) -> None:
    """A table that fits 80 columns (short cells only), then each venue's details,
    wrapped under its id rather than back to the left margin. No line ends in the
    spaces that pad its cells (`obook venues | awk` reads clean lines)."""
    out = console()
    with out.capture() as captured:
        _print_tables(out, rows)
    out.file.write("".join(line.rstrip(" ") + "\n" for line in captured.get().splitlines()))
    out.file.flush()


def _print_tables(out: Console, rows: list[dict]) -> None:
    table = Table(header_style="bold", box=None, padding=(0, 2, 0, 0))
    for title in ("venue", "transport", "auth", "depth", "symbol"):
        table.add_column(title, no_wrap=True)
    for row in rows:
        depth = f"{row['default_depth']} (max {row['max_depth'] or 'all'})"
        table.add_row(Text(row["id"], style="bold"), Text(row["transport"]), Text(row["auth"]), Text(depth), Text(row["symbol_format"]))
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

"""Bitso — not built yet."""

from orderbook_cli.errors import UsageError
from orderbook_cli.symbols import SymbolStyle
from orderbook_cli.venues.base import Venue, VenueInfo


class Bitso(Venue):
    info = VenueInfo(
        id="bitso", name="Bitso", transport="WebSocket", auth="none", default_depth=20, max_depth=None,
        symbols=SymbolStyle("_", upper=True), url_env="OBOOK_BITSO_URL", default_url="",
    )

    def producer(self, request):
        raise UsageError(f"venue {self.info.id!r} is not built yet", hint="use revx for now")

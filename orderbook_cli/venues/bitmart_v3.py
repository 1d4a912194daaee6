"""BitMart (spot v3) — not built yet."""

from orderbook_cli.errors import UsageError
from orderbook_cli.symbols import SymbolStyle
from orderbook_cli.venues.base import Venue, VenueInfo


class BitMartV3(Venue):
    info = VenueInfo(
        id="bitmart-v3", name="BitMart (spot v3)", transport="WebSocket", auth="none", default_depth=20, max_depth=None,
        symbols=SymbolStyle("_", upper=True), url_env="OBOOK_BITMART_V3_URL", default_url="",
    )

    def producer(self, request):
        raise UsageError(f"venue {self.info.id!r} is not built yet", hint="use revx for now")

"""BitMart — not built yet."""

from orderbook_cli.errors import UsageError
from orderbook_cli.symbols import SymbolStyle
from orderbook_cli.venues.base import Venue, VenueInfo


class BitMartSeed(Venue):
    info = VenueInfo(
        id="bitmart", name="BitMart", transport="WebSocket", auth="none", default_depth=20, max_depth=None,
        symbols=SymbolStyle("_", upper=True), url_env="OBOOK_BITMART_URL", default_url="",
    )

    def producer(self, request):
        raise UsageError(f"venue {self.info.id!r} is not built yet", hint="use revx for now")

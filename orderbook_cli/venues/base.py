"""What a venue module declares and implements."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from orderbook_cli.errors import UsageError, sanitize
from orderbook_cli.feed import NO_LIMITS, Feed, FeedRequest, Limits, Producer
from orderbook_cli.symbols import SymbolStyle, parse_pair
from orderbook_cli.transport.endpoints import endpoint

if TYPE_CHECKING:
    from orderbook_cli.trades import Trade


class VenueOption(NamedTuple):
    """An option a venue adds to `snapshot` and `watch` (--NAME): shown in their help and
    completions, given once on the command line, used by the sources whose venue takes it."""

    name: str  # the option is --NAME
    help: str  # what it does (the help page prefixes the venues that take it)
    metavar: str = ""  # its value's name, e.g. DECIMALS; "": a flag, True when given
    parse: Callable[[str], Any] = str  # the value from its text; ValueError saying what is expected
    choices: tuple[str, ...] = ()  # the values completion offers

    def read(self, value: Any) -> Any:
        """The given value (text, or True for a flag) parsed; a bad one is a usage error naming the option."""
        if not self.metavar:
            return True if value else None
        try:
            return self.parse(str(value))
        except ValueError as error:
            raise UsageError(f"--{self.name} {sanitize(value, 40)!r}: {error}") from None


def whole_number(low: int, high: int, what: str) -> Callable[[str], int]:
    """A parser of whole numbers from low to high, bounded by length before conversion."""
    def parse(text: str) -> int:
        text = text.strip()
        if not (text.isascii() and text.isdigit() and len(text) <= len(str(high))) or not low <= int(text) <= high:
            raise ValueError(f"not {what} (a whole number from {low} to {high})")
        return int(text)
    return parse


def one_of(*choices: str) -> Callable[[str], str]:
    """A parser of one word among choices, in any case."""
    def parse(text: str) -> str:
        word = text.strip().lower()
        if word not in choices:
            raise ValueError(f"not one of {', '.join(choices)}")
        return word
    return parse


class VenueInfo(NamedTuple):
    id: str
    name: str
    transport: str  # "REST polling" or "WebSocket"
    auth: str
    default_depth: int
    max_depth: int | None  # None: whatever the venue sends
    symbols: SymbolStyle
    url_env: str  # OBOOK_<VENUE>_URL
    default_url: str
    limits: Limits = NO_LIMITS  # the venue's documented connection and request limits, kept by the feed
    options: tuple[VenueOption, ...] = ()  # its own command-line options (--precision, --feed, ...)
    summary: str = ""
    example_symbol: str = ""  # a pair this venue lists, in its own spelling
    rest_env: str = ""  # OBOOK_<VENUE>_REST_URL, for a venue that also speaks REST (seeds, pair lists)
    rest_url: str = ""  # that REST origin's default


class Example(NamedTuple):
    """A venue's own test example, run for every registered venue by tests/test_venue_examples.py
    (and fed to the fuzzers): what its loopback server serves, and the book obook must print."""

    symbol: str
    bids: tuple[tuple[str, str], ...]  # the expected book, best first: (price, amount) as printed
    asks: tuple[tuple[str, str], ...]
    frames: tuple[str, ...] = ()  # WebSocket: sent in order after the client's subscription frames
    rest: tuple[tuple[str, str], ...] = ()  # HTTP: (path, body) served at an origin
    rest_env: str = ""  # the variable that points the venue at that origin ("": info.url_env)
    options: tuple[str, ...] = ()  # extra command-line arguments, e.g. ("--feed", "top")
    sequence: int | None = None  # the printed book's sequence


class TradeStream(NamedTuple):
    """A venue's public trades over a WebSocket of their own, at the venue's own endpoint
    (Venue.trades): what to send once connected and what each frame holds. `obook trades`,
    the tape in `watch`, `--order-flow`, `--record` and `replay` all go through it."""

    subscribe: Callable[[str], list[str]]  # the symbol (venue's spelling) -> frames sent after connecting
    parse: Callable[[str | bytes, str, datetime], list[Trade]]  # (frame, symbol, received_at) -> its trades; [] for acks,
    # keep-alives and pongs; MalformedData skips the frame, VenueRejected (a refused subscription) ends the feed
    idle: float  # seconds of silence (keep-alives included) after which the link is dead
    ping: tuple[float, str] | None = None  # (interval, message) where the venue wants pings


class TradePoll(NamedTuple):
    """A venue's public trades polled over REST at its own endpoint (Venue.trades). `pages`
    makes, for one HTTP client and symbol, the function each poll calls: it returns one
    window's trades, oldest first, and may overlap the last (the tape prints each id once)."""

    pages: Callable[[Any, str], Callable[[], list[Trade]]]  # (transport.http.HttpClient, symbol) -> one poll
    interval: float  # seconds between polls: within the venue's rate limit


class Venue(ABC):
    """A thin fetcher: from the venue's wire format to normalized books."""

    info: ClassVar[VenueInfo]

    def __init__(self, environ: Mapping[str, str] | None = None):
        self.environ = os.environ if environ is None else environ

    @property
    def url(self) -> str:
        return endpoint(self.environ, self.info.url_env, self.info.default_url)

    @property
    def rest_url(self) -> str:
        return endpoint(self.environ, self.info.rest_env, self.info.rest_url)

    def check_endpoints(self) -> None:
        """Every endpoint override this venue reads is well formed (before any connection)."""
        for variable, default in ((self.info.url_env, self.info.default_url), (self.info.rest_env, self.info.rest_url)):
            if variable:
                endpoint(self.environ, variable, default)

    def symbol(self, text: str) -> str:
        """The venue's spelling of whatever pair spelling the user typed."""
        example = self.info.example_symbol or self.info.symbols.example
        try:
            return self.info.symbols.spell(parse_pair(text, example))
        except UsageError:  # only now is the cached pair list worth reading, for a suggestion
            from orderbook_cli import symbol_cache

            known = symbol_cache.read(self.info.id, self.environ)[0]
            return self.info.symbols.spell(parse_pair(text, example, known, self.info.id))

    def default_depth(self) -> int:
        return self.info.default_depth

    def max_depth(self, options: Mapping[str, Any] | None = None) -> int | None:
        """The most levels per side this venue can show (with these options, e.g. the feed)."""
        return self.info.max_depth

    def check_depth(self, depth: int | None, options: Mapping[str, Any] | None = None) -> int:
        if depth is None:
            return self.default_depth()
        limit = self.max_depth(options)
        if depth < 1 or (limit is not None and depth > limit):
            bound = f"1..{limit}" if limit else "at least 1"
            raise UsageError(f"--depth {depth} is out of range for {self.info.id} ({bound})")
        return depth

    def takes(self, option: str) -> bool:
        """Whether --OPTION is one of this venue's own options."""
        return any(declared.name == option for declared in self.info.options)

    def use_options(self, options: Mapping[str, Any]) -> None:  # noqa: B027  (most venues have no such option)
        """Options that change how the venue is spoken to (e.g. revx --public); checked already."""

    @abstractmethod
    def producer(self, request: FeedRequest) -> Producer:
        """The function that talks to the venue on the feed's thread."""

    def open_feed(self, request: FeedRequest) -> Feed:
        return Feed(request, self.producer(request), limits=self.info.limits)

    def list_symbols(self, timeout: float) -> list[str]:
        """Every pair the venue lists, in its own spelling (for completion and `obook symbols`)."""
        raise UsageError(f"{self.info.id} does not publish a pair list")

    def _get_json(self, origin_env: str, default_origin: str, path: str, timeout: float) -> Any:
        from orderbook_cli.transport.http import (
            HttpClient,
            HttpStatusError,
            status_error,
        )

        http = HttpClient(endpoint(self.environ, origin_env, default_origin), timeout, origin_env)
        try:
            return http.get_json(path)
        except HttpStatusError as error:
            raise status_error(error) from error
        finally:
            http.close()

    def examples(self) -> tuple[Example, ...]:
        """This venue's test examples (see :class:`Example`)."""
        return ()

    trades_note: ClassVar[str] = ""  # where a venue has no trades: why, and what to use instead

    def trades(self) -> TradeStream | TradePoll | None:
        """How this venue's public trades are followed; None: it has none in obook."""
        return None

    def describe(self) -> dict[str, Any]:
        """What `obook venues` shows for this venue (a malformed override is shown as its problem)."""
        info = self.info
        try:
            url = self.url
        except UsageError as error:
            url = error.message
        return {
            "id": info.id,
            "name": info.name,
            "transport": info.transport,
            "auth": info.auth,
            "default_depth": self.default_depth(),
            "max_depth": self.max_depth(),
            "symbol_format": info.example_symbol or info.symbols.example,
            "endpoint": url,
            "endpoint_env": info.url_env,
            "options": [f"--{o.name}" for o in info.options],
            "summary": info.summary,
            "limits": info.limits.as_json(),
        }

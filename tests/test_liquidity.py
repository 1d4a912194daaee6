"""The liquidity bands' one-walk sums (each level added to the narrowest band that holds
it, bands summed at the end) equal a band-by-band walk, digit for digit."""

import random
from decimal import Decimal as D
from decimal import localcontext

from orderbook_cli.book import EXACT, RawLevel
from orderbook_cli.liquidity import BANDS_BPS, liquidity


def _reference(levels, limits, inside):
    """The earlier walk: every level tested against every band."""
    amounts, notionals, past = [D(0)] * len(limits), [D(0)] * len(limits), [False] * len(limits)
    for level in levels:
        for index, limit in enumerate(limits):
            if inside(level.price, limit):
                amounts[index] += level.amount
                notionals[index] += level.amount * level.price
            else:
                past[index] = True
        if past[-1]:
            break
    return list(zip(amounts, notionals, past))


def test_bands_match_the_band_by_band_walk_to_the_digit():
    rng = random.Random(26)
    amounts = ["0.5", "1", "0.010", "2.50", "1E+1", "3E-8", "7.000"]
    for _ in range(400):
        mid = D(rng.choice(["100", "100.5", "99.99", "1E+2", "0.001"]))
        step = mid * D(rng.choice(["0.0001", "0.0005", "0.002", "0.01"]))
        bids = [RawLevel(mid - step * (i + (rng.random() < 0.5)), D(rng.choice(amounts)), 1) for i in range(rng.randint(0, 30))]
        asks = [RawLevel(mid + step * (i + 1), D(rng.choice(amounts)), None) for i in range(rng.randint(0, 30))]
        bids.sort(key=lambda level: level.price, reverse=True)
        got = liquidity(bids, asks, mid)
        with localcontext(EXACT):
            reaches = [mid * bps / 10000 for bps in BANDS_BPS]
            bid_sums = _reference(bids, [mid - r for r in reaches], lambda price, low: price >= low)
            ask_sums = _reference(asks, [mid + r for r in reaches], lambda price, high: price <= high)
        for band, (bid, bid_notional, bids_past), (ask, ask_notional, asks_past) in zip(got, bid_sums, ask_sums):
            assert (str(band.bid), str(band.bid_notional), str(band.ask), str(band.ask_notional), band.complete) == \
                (str(bid), str(bid_notional), str(ask), str(ask_notional), bids_past and asks_past)

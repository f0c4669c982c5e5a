"""Orders in which the libraries of an interleaved benchmark run, round by round.

Rotating one fixed order (round r starts at library r) lets every library follow the
same neighbour every time: in bench_sharding chunkzip always ran right after zarrs, whose
worker threads were still winding down on this 2-core machine (chunkzip's 1000x1000
window: 1.9 ms best right after zarrs, 1.6 ms in orders where it follows the others).
A row-complete Latin square (Williams design) instead has every library run right after
every other library equally often and in every position equally often, over ``len(orders)``
rounds.
"""
from __future__ import annotations


def balanced_orders(names: list) -> list[list]:
    """Orders (one per round, cycled) such that each library directly follows each other
    library equally often: ``n`` orders for an even number ``n`` of libraries, ``2n`` for an
    odd number (the square and its mirror image)."""
    n = len(names)
    if n <= 1:
        return [list(names)]
    first, lo, hi = [0], 1, n - 1
    while len(first) < n:  # 0, 1, n-1, 2, n-2, ...
        first.append(lo)
        lo += 1
        if len(first) < n:
            first.append(hi)
            hi -= 1
    rows = [[(x + i) % n for x in first] for i in range(n)]
    if n % 2:
        rows += [row[::-1] for row in rows]
    return [[names[x] for x in row] for row in rows]


def order_for_round(names: list, r: int) -> list:
    """The order of round ``r``."""
    orders = balanced_orders(names)
    return orders[r % len(orders)]

"""Keep a bulk plan, made from an older read of the database, from undoing plans made since."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class FreshPlans:
    """Which items (meetings) were planned on their own while a bulk plan of them is being applied.

    At start every meeting is planned from one read of the database, applied bit by bit while members'
    commands run. An item planned on its own meanwhile (an organiser's edit, a member's new reminder) was
    planned from a newer read, so the bulk plan leaves it alone. Only a plan that succeeded counts.
    """

    def __init__(self) -> None:
        self._runs: list[set[int]] = []

    @contextmanager
    def bulk(self) -> Iterator[set[int]]:
        """Apply a bulk plan inside this; the set yielded holds the items planned afresh meanwhile."""
        fresh: set[int] = set()
        self._runs.append(fresh)
        try:
            yield fresh
        finally:
            self._runs.remove(fresh)

    def planned(self, item_id: int) -> None:
        """Note that `item_id` was just planned on its own, from what the database says now."""
        for fresh in self._runs:
            fresh.add(item_id)

"""Buddy pairing: split opted-in members into pairs and at most one trio, pure and deterministic.

The rules, in order of strength:

1. Never put two members together when either avoids the other; a member who cannot be placed without
   that is left out (``RoundResult.unplaced``) rather than matched against someone's wishes.
2. Place everyone else: pairs, plus one trio when the count is odd.
3. Never repeat a pair that was together within the last ``recent_rounds`` rounds when a grouping without
   such a repeat exists (this is exact: it falls back to repeats only when none exists).
4. Maximise the summed ``pair_weight``: new pairs over old repeats (older repeats cost less), then
   mentee-mentor pairs, then close UTC offsets.

Rules 1-3 are exact: Edmonds' augmenting paths over every allowed pair, and an exhaustive search for
the trio when the quick one fails (within a budget only contrived inputs reach). Rule 4 is approximate
for speed: a greedy matching over a few good partners per member (every pair in small groups),
mentee-mentor chains, and pair swaps stay within 1% of an exact maximum-weight matching (see
``bench/pairing.py``).
"""

import random
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from operator import itemgetter

ROLES = ("peer", "mentor", "mentee")

_MENTOR, _MENTEE = 1, 2
_ROLE_CODE = {role: code for code, role in enumerate(ROLES)}

# Every allowed pair is worth at least _BASE so that adding a pair always adds weight.
_BASE = 1.0
# Each preference outweighs everything below it for a single pair: a never-met pair beats any repeat
# whatever the roles and offsets (8 > 1.5 + 4 + 1), and a repeat from long ago beats a recent one.
_NOVELTY = 8.0
_OLD_REPEAT = 1.5
# Mentee-mentor beats anything with a peer, which beats two mentors or two mentees together. A mentee
# with a mentor and two peers together (4 + 1.5) beat both with a peer (1.5 + 1.5) by more than two
# pairs' offsets can make up (2), so no trade of offsets ever splits a mentee from their mentor.
_ROLE_BONUS = (
    (1.5, 1.5, 1.5),
    (1.5, 0.0, 4.0),
    (1.5, 4.0, 0.0),
)
# Close offsets are the weakest preference: at most 1, less than one step between role bonuses.
_CLOSENESS = 1.0
_NEW_PAIR = _BASE + _NOVELTY
_DAY_MINUTES = 24 * 60
_HALF_DAY_MINUTES = 12 * 60
# A recent repeat, used only as a last resort, costs far more than any pair's weight can make up.
_RECENT_REPEAT_COST = 1000.0

# Above this size, candidates are a few near partners per role instead of everyone.
_ALL_PAIRS_UP_TO = 160
# How many partners a member proposes from each role, by its own role (peer, mentor, mentee order):
# mentors and mentees look mostly at each other, peers at everyone.
_PROPOSALS = (
    (5, 2, 2),
    (3, 1, 6),
    (3, 6, 1),
)
# How many never-met partners a member stuck with an old partner gets among the others stuck.
_STALE_QUOTA = 3
# How many of the nearest partners per role a member proposes whatever their history.
_NEAREST = 2
# How far past its quota a member looks for partners it never met before settling for old ones.
_SCAN_FACTOR = 12
# Steps away from an anchor in walking order: 0, +1, -1, +2, -2, …
_WALK = [(step + 1) // 2 if step % 2 else -(step // 2) for step in range(_SCAN_FACTOR * 8 + 2)]
# Passes of swaps over everyone; after the first two or three they rarely find anything.
_SWAP_PASSES = 8
# Bounds the exact search for a trio when the quick one fails (only adversarial inputs get there).
_TRIO_CHECK_BUDGET = 2000
_EPSILON = 1e-9


@dataclass(frozen=True)
class Candidate:
    """A member taking part in a round."""

    user_id: int
    role: str  # peer | mentor | mentee
    utc_offset_minutes: int  # the member's current UTC offset (0 when unknown)


@dataclass(frozen=True)
class PastGroup:
    """A group from an earlier round."""

    round_index: int  # rounds are numbered 0, 1, 2, …; the current round is larger than all of them
    members: frozenset[int]


@dataclass(frozen=True)
class RoundResult:
    """The groups of a round and who could not be placed."""

    # Sorted tuples of user ids, sorted; all pairs except at most one trio.
    groups: tuple[tuple[int, ...], ...]
    # Members left out: a lone candidate, or members whom avoid lists make impossible to place.
    unplaced: tuple[int, ...]


HistoryIndex = Mapping[frozenset[int], int]


def build_history_index(history: Iterable[PastGroup]) -> dict[frozenset[int], int]:
    """Map every pair that was ever together to the last round it was together."""
    return _index_history(history, None)[0]


def _index_history(
    history: Iterable[PastGroup], recent_from: int | None
) -> tuple[dict[frozenset[int], int], list[frozenset[int]]]:
    """Index the history and, in the same pass, collect the groups from round ``recent_from`` on."""
    index: dict[frozenset[int], int] = {}
    recent: list[frozenset[int]] = []
    get = index.get
    cut = float("inf") if recent_from is None else recent_from
    for group in history:
        members = group.members
        round_index = group.round_index
        if round_index >= cut:
            recent.append(members)
        # A pair's member set is already its key: most groups cost one lookup.
        for key in (members,) if len(members) == 2 else map(frozenset, combinations(members, 2)):
            last = get(key)
            if last is None or last < round_index:
                index[key] = round_index
    return index, recent


def _closeness(offset_a: int, offset_b: int) -> float:
    """Score 1 for equal clock times down to 0 for twelve hours apart."""
    # Offsets wrap around the day: UTC-11 and UTC+13 show the same clock time.
    gap = abs(offset_a - offset_b) % _DAY_MINUTES
    gap = min(gap, _DAY_MINUTES - gap)
    return _CLOSENESS * (1.0 - gap / _HALF_DAY_MINUTES)


def _score(
    role_a: int,
    role_b: int,
    offset_a: int,
    offset_b: int,
    last_round: int | None,
    round_index: int,
    recent_rounds: int,
) -> float | None:
    """Weigh a pair from its roles, offsets and last round together; None for a recent repeat."""
    if last_round is None:
        novelty = _NOVELTY
    else:
        age = round_index - last_round
        if age <= recent_rounds:
            return None
        # Grows from little just past the recent window towards _OLD_REPEAT for long-ago pairs.
        novelty = _OLD_REPEAT * (1.0 - (recent_rounds + 1) / (age + 1))
    return _BASE + novelty + _ROLE_BONUS[role_a][role_b] + _closeness(offset_a, offset_b)


def pair_weight(
    a: Candidate, b: Candidate, history_index: HistoryIndex, round_index: int, recent_rounds: int
) -> float | None:
    """Weigh putting two candidates together (higher is better); None if they met too recently."""
    return _score(
        _ROLE_CODE[a.role],
        _ROLE_CODE[b.role],
        a.utc_offset_minutes,
        b.utc_offset_minutes,
        history_index.get(frozenset((a.user_id, b.user_id))),
        round_index,
        recent_rounds,
    )


def _fallback_weight(
    a: Candidate, b: Candidate, history_index: HistoryIndex, round_index: int, recent_rounds: int
) -> float:
    """Weigh a pair like pair_weight, but a recent repeat gets a large cost instead of None."""
    weight = pair_weight(a, b, history_index, round_index, recent_rounds)
    if weight is not None:
        return weight
    last = history_index[frozenset((a.user_id, b.user_id))]
    # Older recent repeats hurt a little less than the latest ones.
    return -_RECENT_REPEAT_COST + (round_index - last) + _ROLE_BONUS[_ROLE_CODE[a.role]][_ROLE_CODE[b.role]]


def pair_round(
    candidates: Sequence[Candidate],
    history: Sequence[PastGroup],
    avoid: Collection[frozenset[int]],
    *,
    round_index: int,
    recent_rounds: int = 6,
    seed: int = 0,
) -> RoundResult:
    """Group candidates into pairs and at most one trio for the given round.

    A lone candidate cannot be paired: they come back in ``unplaced`` and the caller tells them nobody
    else is in yet. The result depends only on the inputs and ``seed`` (which, mixed with
    ``round_index``, breaks ties between equally good partners).
    """
    if recent_rounds < 0:
        raise ValueError("recent_rounds cannot be negative")
    members = sorted(candidates, key=lambda c: c.user_id)
    _validate(members)
    if len(members) < 2:
        return RoundResult(groups=(), unplaced=tuple(c.user_id for c in members))
    rng = random.Random(f"pair_round:{seed}:{round_index}")
    index, recent_groups = _index_history(history, round_index - recent_rounds)
    matcher = _Matcher(members, index, recent_groups, avoid, round_index, recent_rounds, rng)
    return matcher.solve()


def rejoin(
    orphan: Candidate,
    singles: Sequence[Candidate],
    groups: Sequence[tuple[Candidate, ...]],
    history: Sequence[PastGroup],
    avoid: Collection[frozenset[int]],
    *,
    round_index: int,
    recent_rounds: int = 6,
) -> tuple[int, ...]:
    """Choose a new group for a member whose buddy left mid-cycle and return its sorted user ids.

    A waiting single comes first, then an existing pair (making a trio), then a trio as a last resort;
    within each, fewer recent repeats and then the higher summed weight win. Nobody the orphan avoids, or
    who avoids them, is ever chosen. Raises ValueError when there is nowhere to go.
    """
    # Only roles: the orphan listed again among the singles or groups is skipped below.
    _validate([orphan, *singles, *(member for group in groups for member in group)], unique=False)
    index = build_history_index(history)
    avoided = {other for pair in avoid if orphan.user_id in pair for other in pair} - {orphan.user_id}

    def rank(kind: int, others: Sequence[Candidate]) -> tuple[int, int, float]:
        """Order options: kind of group, then recent repeats, then weight (lower ranks first)."""
        repeats = 0
        total = 0.0
        for other in others:
            weight = pair_weight(orphan, other, index, round_index, recent_rounds)
            if weight is None:
                repeats += 1
                weight = _fallback_weight(orphan, other, index, round_index, recent_rounds)
            total += weight
        return (kind, repeats, -total)

    options: list[tuple[tuple[int, int, float], tuple[int, ...]]] = []
    for single in singles:
        if single.user_id != orphan.user_id and single.user_id not in avoided:
            options.append((rank(0, [single]), (single.user_id,)))
    for group in groups:
        ids = tuple(c.user_id for c in group)
        if not group or orphan.user_id in ids or avoided.intersection(ids):
            continue
        # A pair becomes a trio; anything bigger only when no pair can take the orphan.
        options.append((rank(1 if len(group) <= 2 else 2, group), ids))
    if not options:
        raise ValueError(f"no single or group can take member {orphan.user_id}")
    _, chosen = min(options, key=lambda option: (option[0], sorted(option[1])))
    return tuple(sorted((orphan.user_id, *chosen)))


def _validate(members: Sequence[Candidate], *, unique: bool = True) -> None:
    """Reject unknown roles and (when ``unique``) duplicate members, which would corrupt the matching."""
    seen: set[int] = set()
    for member in members:
        if member.role not in _ROLE_CODE:
            raise ValueError(f"unknown role {member.role!r} for member {member.user_id}")
        if unique and member.user_id in seen:
            raise ValueError(f"member {member.user_id} is a candidate twice")
        seen.add(member.user_id)


Allowed = Callable[[int, int], bool]
# Weighted tuples, (weight, j) or (weight, i, j), sort by weight alone (stable, so ties keep their order).
_weight_of = itemgetter(0)


class _Matcher:
    """Hold one round's state; members are numbered 0..n-1 in user id order."""

    def __init__(
        self,
        members: Sequence[Candidate],
        history_index: HistoryIndex,
        recent_groups: Iterable[frozenset[int]],
        avoid: Collection[frozenset[int]],
        round_index: int,
        recent_rounds: int,
        rng: random.Random,
    ) -> None:
        self.members = members
        self.n = n = len(members)
        self.ids = [c.user_id for c in members]
        self.roles = [_ROLE_CODE[c.role] for c in members]
        self.offsets = [c.utc_offset_minutes for c in members]
        self.history = history_index
        self.round_index = round_index
        self.recent_rounds = recent_rounds
        self.order = list(range(n))
        # The seeded shuffle decides every tie, so equal partners take turns across rounds.
        rng.shuffle(self.order)
        position = {user_id: i for i, user_id in enumerate(self.ids)}
        self.avoided = _neighbour_sets(n, avoid, position)
        self.recent = _neighbour_sets(n, recent_groups, position)
        # One set per member with anyone, so the hot loops test a single set.
        self.blocked = [a | r if a else r for a, r in zip(self.avoided, self.recent, strict=True)]
        self.mate = [-1] * n
        self.mate_weight = [0.0] * n
        self.trio: tuple[int, int, int] | None = None
        # Good allowed partners of each member with their weights, heaviest first.
        self.partners: list[list[tuple[float, int]]] = [[] for _ in range(n)]
        # The same candidate pairs once each, for the greedy.
        self.edges: list[tuple[float, int, int]] = []

    # Weights -------------------------------------------------------------------------------------

    def weight(self, i: int, j: int) -> float | None:
        """Weigh members i and j; None when they avoid each other or met recently."""
        if j in self.blocked[i]:
            return None
        return _score(
            self.roles[i],
            self.roles[j],
            self.offsets[i],
            self.offsets[j],
            self.history.get(frozenset((self.ids[i], self.ids[j]))),
            self.round_index,
            self.recent_rounds,
        )

    def penalised_weight(self, i: int, j: int) -> float:
        """Weigh members i and j, costing a recent repeat instead of forbidding it (avoids unchecked)."""
        weight = self.weight(i, j)
        if weight is not None:
            return weight
        return _fallback_weight(self.members[i], self.members[j], self.history, self.round_index, self.recent_rounds)

    def loose_weight(self, i: int, j: int) -> float | None:
        """Weigh members i and j like penalised_weight; None when either avoids the other."""
        return None if j in self.avoided[i] else self.penalised_weight(i, j)

    def strict(self, i: int, j: int) -> bool:
        """Tell whether i and j may meet without an avoid or a recent repeat."""
        return i != j and j not in self.blocked[i]

    def loose(self, i: int, j: int) -> bool:
        """Tell whether i and j may meet at all (neither avoids the other)."""
        return i != j and j not in self.avoided[i]

    # The round ------------------------------------------------------------------------------------

    def solve(self) -> RoundResult:
        """Match good pairs, then make sure nobody is left out who could be placed."""
        if self.n <= _ALL_PAIRS_UP_TO:
            self.propose_all()
        else:
            self.propose_near()
        self.greedy()
        self.augment(self.strict)
        if self.n > _ALL_PAIRS_UP_TO:
            self.propose_among_repeats()
        self.improve_by_swaps()
        free = self.free()
        strict_free = len(free)
        if not free or (strict_free == 1 and self.place_trio(free, self.strict)):
            return self.result()
        # No repeat-free grouping places everyone: recent repeats become allowed, avoids never do.
        self.augment(self.loose)
        free = self.free()
        if free:
            # When avoids alone cap the matching (it did not grow), a repeat-free trio may still exist.
            untried = strict_free > 1 and len(free) == strict_free
            if not (untried and self.place_trio(free, self.strict)):
                self.place_trio(free, self.loose)
        # The paths above took whichever repeats came first; swaps trade them for fewer or older ones.
        self.improve_by_swaps(locked=self.trio or (), weight=self.loose_weight)
        return self.result()

    def free(self) -> list[int]:
        """List the unmatched members in the seeded order."""
        mate = self.mate
        return [i for i in self.order if mate[i] < 0]

    def result(self) -> RoundResult:
        """Turn the matching and the trio into sorted groups of user ids."""
        ids = self.ids
        groups = []
        placed = set()
        if self.trio is not None:
            groups.append(tuple(sorted(ids[i] for i in self.trio)))
            placed.update(self.trio)
        for i, j in enumerate(self.mate):
            if i < j and i not in placed:
                groups.append((ids[i], ids[j]))
                placed.update((i, j))
        unplaced = tuple(ids[i] for i in range(self.n) if i not in placed)
        return RoundResult(groups=tuple(sorted(groups)), unplaced=unplaced)

    # Phase 1: a few good partners per member ------------------------------------------------------

    def add_partner(self, i: int, j: int, weight: float) -> None:
        """Record an allowed candidate pair."""
        self.partners[i].append((weight, j))
        self.partners[j].append((weight, i))
        self.edges.append((weight, i, j))

    def propose_all(self) -> None:
        """Take every allowed pair as a candidate (small groups)."""
        order = self.order
        weight = self.weight
        for a, i in enumerate(order):
            for j in order[a + 1 :]:
                w = weight(i, j)
                if w is not None:
                    self.add_partner(i, j, w)
        for row in self.partners:
            row.sort(key=_weight_of, reverse=True)

    def propose_near(self) -> None:
        """Take, per member and role, a few never-met partners at the nearest UTC offsets."""
        n = self.n
        ids = self.ids
        roles = self.roles
        offsets = self.offsets
        blocked = self.blocked
        history_get = self.history.get
        round_index = self.round_index
        recent_rounds = self.recent_rounds
        # Within a role, members sort by offset with seeded ties, so the neighbours change every round.
        rank_in_order = [0] * n
        for rank, i in enumerate(self.order):
            rank_in_order[i] = rank
        by_role = [
            sorted(
                (i for i in range(n) if roles[i] == role),
                key=lambda i: (offsets[i], rank_in_order[i]),
            )
            for role in range(len(ROLES))
        ]
        role_offsets = [[offsets[i] for i in row] for row in by_role]
        role_ids = [[ids[i] for i in row] for row in by_role]
        partners = self.partners
        rank_in_role = [0] * n
        for row in by_role:
            for rank, i in enumerate(row):
                rank_in_role[i] = rank
        # Pairs proposed so far (i * n + j, i < j), and whether they never met.
        known: dict[int, bool] = {}
        edges = self.edges
        for i in self.order:
            own = roles[i]
            offset = offsets[i]
            user_id = ids[i]
            blocked_i = blocked[i]
            own_lo = bisect_left(role_offsets[own], offset)
            own_hi = bisect_right(role_offsets[own], offset, own_lo)
            # Where i sits among its role's members at its offset, to spread proposals over another
            # role's members at that offset instead of all landing on the first few.
            share = (rank_in_role[i] - own_lo) / (own_hi - own_lo)
            for role, row in enumerate(by_role):
                quota = _PROPOSALS[own][role]
                size = len(row)
                if size == 0:
                    continue
                if role == own:
                    anchor = rank_in_role[i]
                else:
                    lo = bisect_left(role_offsets[role], offset)
                    hi = bisect_right(role_offsets[role], offset, lo)
                    anchor = lo + int(share * (hi - lo))
                taken = novel = 0
                row_ids = role_ids[role]
                row_offsets = role_offsets[role]
                new_pair = _NEW_PAIR + _ROLE_BONUS[own][role]
                # Walk outwards from the anchor, wrapping because offsets wrap around the day. Take the
                # nearest few whatever the history, and walk on for never-met ones.
                for delta in _WALK[: min(size, _SCAN_FACTOR * quota + 2)]:
                    k = (anchor + delta) % size
                    j = row[k]
                    if j in blocked_i or j == i:
                        continue
                    key = i * n + j if i < j else j * n + i
                    fresh = known.get(key)
                    if fresh is None:
                        last = history_get(frozenset((user_id, row_ids[k])))
                        fresh = last is None
                        if fresh:
                            # _score inlined for the common case: this loop is the hot spot.
                            gap = abs(offset - row_offsets[k]) % _DAY_MINUTES
                            if gap > _HALF_DAY_MINUTES:
                                gap = _DAY_MINUTES - gap
                            w = new_pair + _CLOSENESS * (1.0 - gap / _HALF_DAY_MINUTES)
                        elif taken >= _NEAREST:
                            continue
                        else:
                            w = _score(own, role, offset, row_offsets[k], last, round_index, recent_rounds)
                            if w is None:
                                continue
                        known[key] = fresh
                        partners[i].append((w, j))
                        partners[j].append((w, i))
                        edges.append((w, i, j))
                    elif not fresh and taken >= _NEAREST:
                        continue
                    taken += 1
                    novel += fresh
                    if novel >= quota and taken >= _NEAREST:
                        break
        for row in self.partners:
            row.sort(key=_weight_of, reverse=True)

    def propose_among_repeats(self) -> None:
        """Propose never-met partners among members the greedy left with someone they met before.

        Their near partners were taken; swapping between two such pairs usually makes two new ones.
        """
        mate = self.mate
        offsets = self.offsets
        stale = [i for i in self.order if mate[i] >= 0 and self.mate_weight[i] < _NEW_PAIR]
        if len(stale) < 4:
            return
        stale.sort(key=offsets.__getitem__)
        size = len(stale)
        partners = self.partners
        touched = set()
        for rank, i in enumerate(stale):
            found = 0
            for delta in _WALK[1 : min(size, _SCAN_FACTOR * _STALE_QUOTA + 2)]:
                j = stale[(rank + delta) % size]
                if j == mate[i]:
                    continue
                w = self.weight(i, j)
                if w is None or w < _NEW_PAIR:
                    continue
                self.add_partner(i, j, w)
                touched.update((i, j))
                found += 1
                if found == _STALE_QUOTA:
                    break
        for i in touched:
            partners[i].sort(key=_weight_of, reverse=True)

    # Phase 2: greedy, augmenting paths, swaps -------------------------------------------------------

    def greedy(self) -> None:
        """Match the heaviest candidate pairs first, giving mentees their mentors before the rest."""
        edges = self.edges
        # Stable sort: equal weights keep the seeded order of proposal.
        edges.sort(key=_weight_of, reverse=True)
        mate = self.mate
        mate_weight = self.mate_weight
        # Never-met mentee-mentor pairs outweigh every other pair, so they come first in the list;
        # finishing them (match_mentors) before anyone else is matched leaves peers to pair among
        # themselves instead of being displaced later.
        mentoring = _NEW_PAIR + _ROLE_BONUS[_MENTEE][_MENTOR]
        rest = len(edges)
        for at, (w, i, j) in enumerate(edges):
            if w < mentoring:
                rest = at
                break
            if mate[i] < 0 and mate[j] < 0:
                mate[i] = j
                mate[j] = i
                mate_weight[i] = mate_weight[j] = w
        self.match_mentors()
        for w, i, j in edges[rest:]:
            if mate[i] < 0 and mate[j] < 0:
                mate[i] = j
                mate[j] = i
                mate_weight[i] = mate_weight[j] = w

    def match_mentors(self) -> None:
        """Give mentees without a mentor a never-met one along alternating paths of mentee-mentor pairs.

        The greedy can use up a region's mentors while another region has mentors to spare; moving
        mentees along a chain of mentee-mentor pairs (Kuhn's augmenting paths) reaches the spare ones,
        which no swap of two pairs can. The members this displaces pair up or are matched later.
        """
        mate = self.mate
        roles = self.roles
        partners = self.partners
        # Only never-met mentee-mentor pairs: anything less is not worth moving others for.
        least = _NEW_PAIR + _ROLE_BONUS[_MENTEE][_MENTOR]
        mentors_of = {
            i: [j for w, j in partners[i] if roles[j] == _MENTOR and w >= least]
            for i in self.order
            if roles[i] == _MENTEE
        }
        self.bridge_to_spare_mentors(mentors_of, least)
        visited: set[int] = set()
        changed: list[int] = []
        for start, options in mentors_of.items():
            if not options or (mate[start] >= 0 and roles[mate[start]] == _MENTOR):
                continue
            # Breadth first, so the chain is as short as possible; failed searches keep their marks
            # until a success (as in Kuhn's algorithm), which bounds the work between successes.
            reached_from: dict[int, int] = {}
            queue = deque([start])
            visited.add(start)
            end = -1
            while queue and end < 0:
                mentee = queue.popleft()
                for mentor in mentors_of[mentee]:
                    if mentor in reached_from:
                        continue
                    reached_from[mentor] = mentee
                    held_by = mate[mentor]
                    if held_by < 0 or roles[held_by] != _MENTEE:
                        end = mentor
                        break
                    if held_by not in visited:
                        visited.add(held_by)
                        queue.append(held_by)
            if end < 0:
                continue
            visited.clear()
            left_over = [x for x in (mate[start], mate[end]) if x >= 0]
            for x in left_over:
                mate[x] = -1
            mentor = end
            while True:
                mentee = reached_from[mentor]
                previous = mate[mentee]
                mate[mentee], mate[mentor] = mentor, mentee
                changed += (mentee, mentor)
                if mentee == start:
                    break
                mentor = previous
            if len(left_over) == 2 and self.strict(*left_over):
                mate[left_over[0]], mate[left_over[1]] = left_over[1], left_over[0]
                changed += left_over
        self.refresh_weights(changed)

    def bridge_to_spare_mentors(self, mentors_of: dict[int, list[int]], least: float) -> None:
        """Make the nearest never-met spare mentors candidates of each mentee without a mentor.

        Proposals only look a few hours around a member, so a region short of mentors would never
        reach another region's spare ones; the swaps later even out the offsets around the move.
        """
        mate = self.mate
        roles = self.roles
        offsets = self.offsets
        spare = sorted(
            (i for i in range(self.n) if roles[i] == _MENTOR and (mate[i] < 0 or roles[mate[i]] != _MENTEE)),
            key=offsets.__getitem__,
        )
        if not spare:
            return
        spare_offsets = [offsets[i] for i in spare]
        size = len(spare)
        quota = _PROPOSALS[_MENTEE][_MENTOR]
        touched = set()
        for i, options in mentors_of.items():
            if mate[i] >= 0 and roles[mate[i]] == _MENTOR:
                continue
            anchor = bisect_left(spare_offsets, offsets[i])
            known = set(options)
            found = 0
            for delta in _WALK[: min(size, _SCAN_FACTOR * quota + 2)]:
                j = spare[(anchor + delta) % size]
                if j in known:
                    continue
                known.add(j)
                w = self.weight(i, j)
                if w is None or w < least:
                    continue
                options.append(j)
                self.add_partner(i, j, w)
                touched.update((i, j))
                found += 1
                if found == quota:
                    break
        for i in touched:
            self.partners[i].sort(key=_weight_of, reverse=True)

    def improve_by_swaps(
        self, locked: Collection[int] = (), weight: Callable[[int, int], float | None] | None = None
    ) -> None:
        """Swap partners between two pairs, (i,b)+(c,d) -> (i,c)+(b,d), while the total weight grows.

        In an improving swap, some new pair is heavier than the current pair of one of its members (else
        the two new pairs could not outweigh the two old ones), so looking from each member only at the
        candidates heavier than its current pair misses no swap whose heavier new pair is a candidate.
        """
        mate = self.mate
        mate_weight = self.mate_weight
        roles = self.roles
        offsets = self.offsets
        weight = weight or self.weight
        partners = self.partners
        order = [i for i in self.order if i not in locked] if locked else self.order
        for _ in range(_SWAP_PASSES):
            improved = False
            for i in order:
                b = mate[i]
                if b < 0:
                    continue
                current = mate_weight[i]
                # The best swap for i, not the first: a member stuck with an old partner should take
                # another stuck member's partner before splitting a good pair.
                best_gain = _EPSILON
                best: tuple[int, int, float, float] | None = None
                for w_ic, c in partners[i]:
                    if w_ic <= current + _EPSILON:
                        break
                    d = mate[c]
                    if d < 0 or c == b or (locked and c in locked):
                        continue
                    others = mate_weight[c]
                    # An upper bound first (b and d as a never-met pair) skips most history lookups.
                    bound = _NEW_PAIR + _ROLE_BONUS[roles[b]][roles[d]] + _closeness(offsets[b], offsets[d])
                    if w_ic + bound - current - others <= best_gain:
                        continue
                    w_bd = weight(b, d)
                    if w_bd is not None and w_ic + w_bd - current - others > best_gain:
                        best_gain = w_ic + w_bd - current - others
                        best = (c, d, w_ic, w_bd)
                if best is not None:
                    c, d, w_ic, w_bd = best
                    mate[i], mate[c], mate[b], mate[d] = c, i, d, b
                    mate_weight[i] = mate_weight[c] = w_ic
                    mate_weight[b] = mate_weight[d] = w_bd
                    improved = True
            if not improved:
                return

    def augment(self, allowed: Allowed) -> None:
        """Grow the matching to maximum size under ``allowed`` (Edmonds' augmenting paths)."""
        free = self.free()
        if len(free) < 2:
            return
        mate = self.mate
        before = list(mate)
        free_set = set(free)
        # Cheap paths first: two free members who may meet, then free-matched-matched-free.
        for u in free:
            if u in free_set:
                for v in free:
                    if v != u and v in free_set and allowed(u, v):
                        mate[u], mate[v] = v, u
                        free_set -= {u, v}
                        break
        for u in free:
            if u in free_set:
                self.augment_short(u, free_set, allowed)
        # Searching from every free member once is enough: one without a path never gets one later.
        # A path needs two free ends, so the odd one out costs no (whole-group) search.
        for root in free:
            if len(free_set) < 2:
                break
            if root in free_set:
                end, _ = _augmenting_path(root, mate, self.neighbours(allowed, free_set), self.n)
                if end >= 0:
                    free_set -= {root, end}
        self.refresh_weights([i for i, (old, new) in enumerate(zip(before, mate, strict=True)) if old != new])

    def augment_short(self, u: int, free_set: set[int], allowed: Allowed) -> None:
        """Rewire u-c, d-v for a good partner c of free u whose mate d may meet another free v."""
        mate = self.mate
        for _, c in self.partners[u]:
            d = mate[c]
            if d < 0 or not allowed(u, c):
                continue
            for v in free_set:
                if v != u and allowed(d, v):
                    mate[u], mate[c], mate[d], mate[v] = c, u, v, d
                    free_set -= {u, v}
                    return

    def refresh_weights(self, changed: Iterable[int] | None = None) -> None:
        """Recompute the weights of rewired pairs (all pairs when ``changed`` is None)."""
        mate = self.mate
        for i in range(self.n) if changed is None else changed:
            j = mate[i]
            if j >= 0:
                self.mate_weight[i] = self.mate_weight[j] = self.penalised_weight(i, j)

    def neighbours(self, allowed: Allowed, free: Collection[int]) -> Callable[[int], Iterator[int]]:
        """Make a generator of v's allowed neighbours: free ones first (ending a search), then the rest."""
        n = self.n
        partners = self.partners
        recent = self.recent

        def around(v: int) -> Iterator[int]:
            for j in free:
                if allowed(v, j):
                    yield j
            for _, j in partners[v]:
                if allowed(v, j):
                    yield j
            # Repeat-free partners before recent repeats, so a loose search repeats as little as it can.
            recent_v = recent[v]
            for j in range(n):
                if j not in recent_v and allowed(v, j):
                    yield j
            for j in recent_v:
                if allowed(v, j):
                    yield j

        return around

    # Phase 3: the odd one out -----------------------------------------------------------------------

    def place_trio(self, free: Sequence[int], allowed: Allowed) -> bool:
        """Put one free member into a pair under ``allowed``; return whether that worked."""
        return self.join_best_pair(free, allowed) or self.search_trio(free, allowed)

    def join_best_pair(self, free: Sequence[int], allowed: Allowed) -> bool:
        """Add a free member to the pair where it fits best; return whether any pair can take one."""
        mate = self.mate
        best: tuple[float, int, int, int] | None = None
        for x in free:
            # The pairs of x's good partners usually hold the best trio; every pair is the fallback.
            near = [a for _, a in self.partners[x] if mate[a] >= 0]
            for pairs in (near, range(self.n)):
                for a in pairs:
                    b = mate[a]
                    if b >= 0 and allowed(x, a) and allowed(x, b):
                        gain = self.penalised_weight(x, a) + self.penalised_weight(x, b)
                        if best is None or gain > best[0] + _EPSILON:
                            best = (gain, x, a, b)
                if best is not None:
                    break
        if best is None:
            return False
        _, x, a, b = best
        self.trio = (a, b, x)
        return True

    def search_trio(self, free: Sequence[int], allowed: Allowed) -> bool:
        """Find a trio plus a matching as large as the current one, trying every possible trio.

        Every member of such a trio is one that some maximum matching leaves out, that is, reachable
        from a free member by an even alternating path; that keeps the search small.
        """
        size = sum(1 for i, j in enumerate(self.mate) if i < j)
        exposable: set[int] = set()
        for root in free:
            end, reached = _augmenting_path(root, list(self.mate), self.neighbours(allowed, ()), self.n)
            if end >= 0:  # cannot happen after augment(); give up rather than trust a broken state
                return False
            exposable |= reached
        checks = 0
        ordered = sorted(exposable)
        for c in ordered:
            near = [a for a in ordered if a > c and allowed(c, a)]
            for a, b in combinations(near, 2):
                if not allowed(a, b):
                    continue
                checks += 1
                if checks > _TRIO_CHECK_BUDGET:
                    return False
                trial = self.match_without((a, b, c), allowed)
                if sum(1 for i, j in enumerate(trial) if i < j) >= size:
                    self.mate = trial
                    self.trio = (a, b, c)
                    self.refresh_weights()
                    if allowed == self.strict:
                        self.improve_by_swaps(locked=self.trio)
                    return True
        return False

    def match_without(self, trio: tuple[int, int, int], allowed: Allowed) -> list[int]:
        """Rematch everyone outside the trio from the current matching; pair the trio's first two."""
        mate = list(self.mate)
        for t in trio:
            if mate[t] >= 0:
                mate[mate[t]] = -1
            mate[t] = -1
        a, b, _ = trio
        mate[a], mate[b] = b, a

        def outside(i: int, j: int) -> bool:
            """Keep the trio out of the rematch."""
            return i not in trio and j not in trio and allowed(i, j)

        roots = [i for i in self.order if mate[i] < 0 and i not in trio]
        free_set = set(roots)
        around = self.neighbours(outside, free_set)
        for root in roots:
            if len(free_set) < 2:
                break
            if root in free_set:
                end, _ = _augmenting_path(root, mate, around, self.n)
                if end >= 0:
                    free_set -= {root, end}
        return mate


def _neighbour_sets(n: int, groups: Iterable[frozenset[int]], position: Mapping[int, int]) -> list[set[int]]:
    """Turn groups of user ids into, per member index, the set of fellow members present."""
    sets: list[set[int]] = [set() for _ in range(n)]
    where = position.get
    for group in groups:
        if len(group) == 2:
            # Pairs are nearly all the groups: the short way.
            a, b = group
            i, j = where(a), where(b)
            if i is not None and j is not None and i != j:
                sets[i].add(j)
                sets[j].add(i)
            continue
        present = [i for i in map(where, group) if i is not None]
        for i in present:
            sets[i].update(x for x in present if x != i)
    return sets


def _augmenting_path(
    root: int, mate: list[int], neighbours: Callable[[int], Iterable[int]], n: int
) -> tuple[int, set[int]]:
    """Search an augmenting path from a free root (Edmonds' blossoms) and apply it to ``mate``.

    Return the path's other end, or -1 with the members reachable by an even alternating path (those
    some maximum matching leaves out instead of the root).
    """
    parent = [-1] * n
    base = list(range(n))
    even = [False] * n
    even[root] = True
    queue = deque([root])

    def common_base(a: int, b: int) -> int:
        """Find the base of the blossom closed by edge a-b."""
        on_path = set()
        while True:
            a = base[a]
            on_path.add(a)
            if mate[a] < 0:
                break
            a = parent[mate[a]]
        while True:
            b = base[b]
            if b in on_path:
                return b
            b = parent[mate[b]]

    def mark_blossom(v: int, stop: int, child: int, blossom: set[int]) -> None:
        """Collect the bases from v down to the blossom base, relinking parents through the blossom."""
        while base[v] != stop:
            blossom.add(base[v])
            blossom.add(base[mate[v]])
            parent[v] = child
            child = mate[v]
            v = parent[mate[v]]

    while queue:
        v = queue.popleft()
        for to in neighbours(v):
            if base[v] == base[to] or mate[v] == to:
                continue
            if to == root or (mate[to] >= 0 and parent[mate[to]] >= 0):
                stop = common_base(v, to)
                blossom: set[int] = set()
                mark_blossom(v, stop, to, blossom)
                mark_blossom(to, stop, v, blossom)
                for i in range(n):
                    if base[i] in blossom:
                        base[i] = stop
                        if not even[i]:
                            even[i] = True
                            queue.append(i)
            elif parent[to] < 0:
                parent[to] = v
                if mate[to] < 0:
                    end = to
                    while to >= 0:
                        previous = parent[to]
                        after = mate[previous]
                        mate[to] = previous
                        mate[previous] = to
                        to = after
                    return end, set()
                even[mate[to]] = True
                queue.append(mate[to])
    return -1, {i for i in range(n) if even[i]}

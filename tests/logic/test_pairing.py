"""Buddy pairing: table tests for the preferences, and properties checked against brute force."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from itertools import combinations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.logic.pairing import (
    ROLES,
    Candidate,
    PastGroup,
    RoundResult,
    build_history_index,
    pair_round,
    pair_weight,
    rejoin,
)

ROUND = 20
RECENT = 6
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def peer(user_id: int, offset: int = 0) -> Candidate:
    return Candidate(user_id, "peer", offset)


def mentor(user_id: int, offset: int = 0) -> Candidate:
    return Candidate(user_id, "mentor", offset)


def mentee(user_id: int, offset: int = 0) -> Candidate:
    return Candidate(user_id, "mentee", offset)


def met(round_index: int, *members: int) -> PastGroup:
    return PastGroup(round_index, frozenset(members))


def pairs_of(groups: Sequence[Sequence[int]]) -> set[frozenset[int]]:
    return {frozenset(p) for group in groups for p in combinations(group, 2)}


def recent_pairs(history: Sequence[PastGroup], round_index: int = ROUND) -> set[frozenset[int]]:
    return {p for p, last in build_history_index(history).items() if round_index - last <= RECENT}


def check_shape(result: RoundResult, candidates: Sequence[Candidate]) -> None:
    """Everyone is placed exactly once or left out, in pairs and at most one trio."""
    placed = [user_id for group in result.groups for user_id in group]
    assert len(placed) == len(set(placed))
    assert set(placed).isdisjoint(result.unplaced)
    assert sorted(placed + list(result.unplaced)) == sorted(c.user_id for c in candidates)
    assert all(len(group) in (2, 3) for group in result.groups)
    assert sum(len(group) == 3 for group in result.groups) <= 1


# ---------------------------------------------------------------------------------------------
# Table tests
# ---------------------------------------------------------------------------------------------


def test_no_candidates_make_an_empty_round() -> None:
    assert pair_round([], [], [], round_index=0) == RoundResult(groups=(), unplaced=())


def test_a_lone_candidate_is_returned_unplaced_for_the_caller_to_tell_them_nobody_else_is_in_yet() -> None:
    assert pair_round([peer(7)], [], [], round_index=0) == RoundResult(groups=(), unplaced=(7,))


def test_two_candidates_make_one_pair() -> None:
    assert pair_round([peer(2), peer(1)], [], [], round_index=0) == RoundResult(groups=((1, 2),), unplaced=())


def test_an_odd_count_makes_exactly_one_trio_and_leaves_nobody_out() -> None:
    candidates = [peer(i) for i in range(1, 8)]
    result = pair_round(candidates, [], [], round_index=0)
    check_shape(result, candidates)
    assert result.unplaced == ()
    assert sorted(len(group) for group in result.groups) == [2, 2, 3]


def test_mentees_are_paired_with_mentors_when_there_are_enough() -> None:
    candidates = [mentee(1), mentee(2), peer(3), peer(4), mentor(5), mentor(6), mentor(7), peer(8)]
    result = pair_round(candidates, [], [], round_index=0)
    roles = {c.user_id: c.role for c in candidates}
    for group in result.groups:
        if any(roles[u] == "mentee" for u in group):
            assert any(roles[u] == "mentor" for u in group)


def test_a_mentee_gets_a_mentor_hours_away_rather_than_a_peer_next_door() -> None:
    candidates = [mentee(1, 540), peer(2, 540), mentor(3, -480), peer(4, -480)]
    result = pair_round(candidates, [], [], round_index=0)
    assert set(result.groups) == {(1, 3), (2, 4)}


def test_peers_are_paired_by_the_closest_utc_offsets() -> None:
    candidates = [peer(1, 0), peer(2, 600), peer(3, 60), peer(4, 540)]
    result = pair_round(candidates, [], [], round_index=0)
    assert set(result.groups) == {(1, 3), (2, 4)}


def test_offsets_wrap_around_the_day_so_utc_minus_11_and_plus_13_count_as_the_same_clock() -> None:
    candidates = [peer(1, -660), peer(2, 0), peer(3, 780), peer(4, 30)]
    result = pair_round(candidates, [], [], round_index=0)
    assert set(result.groups) == {(1, 3), (2, 4)}


def test_a_recent_pair_is_not_repeated_when_another_pairing_exists() -> None:
    candidates = [peer(1), peer(2), peer(3), peer(4)]
    history = [met(ROUND - 1, 1, 2), met(ROUND - 1, 3, 4), met(ROUND - 2, 1, 3), met(ROUND - 2, 2, 4)]
    result = pair_round(candidates, history, [], round_index=ROUND)
    assert set(result.groups) == {(1, 4), (2, 3)}


def test_pairs_from_longer_ago_than_the_recent_rounds_may_meet_again() -> None:
    history = [met(ROUND - RECENT - 1, 1, 2)]
    result = pair_round([peer(1), peer(2)], history, [], round_index=ROUND)
    assert result.groups == ((1, 2),)


def test_a_recent_pair_is_repeated_rather_than_leaving_someone_out() -> None:
    history = [met(ROUND - 1, 1, 2), met(ROUND - 2, 1, 3), met(ROUND - 3, 1, 4)]
    candidates = [peer(1), peer(2), peer(3), peer(4)]
    result = pair_round(candidates, history, [], round_index=ROUND)
    check_shape(result, candidates)
    assert result.unplaced == ()
    assert len(pairs_of(result.groups) & recent_pairs(history)) == 1
    # Of member 1's recent buddies, the longest ago is the least bad.
    assert (1, 4) in result.groups


def test_never_met_pairs_are_preferred_to_old_repeats() -> None:
    history = [met(ROUND - 20, 1, 2), met(ROUND - 20, 3, 4)]
    result = pair_round([peer(1), peer(2), peer(3), peer(4)], history, [], round_index=ROUND)
    assert not pairs_of(result.groups) & {frozenset((1, 2)), frozenset((3, 4))}


def test_members_who_avoid_each_other_are_left_out_rather_than_paired() -> None:
    result = pair_round([peer(1), peer(2)], [], [frozenset((1, 2))], round_index=0)
    assert result == RoundResult(groups=(), unplaced=(1, 2))


def test_only_the_member_avoided_by_everyone_is_left_out() -> None:
    avoid = [frozenset((1, 2)), frozenset((1, 3)), frozenset((1, 4))]
    candidates = [peer(1), peer(2), peer(3), peer(4), peer(5)]
    result = pair_round(candidates, [], avoid, round_index=0)
    check_shape(result, candidates)
    assert result.unplaced == ()
    assert [group for group in result.groups if 1 in group] == [(1, 5)]


def test_an_avoid_inside_the_only_possible_trio_leaves_one_member_out() -> None:
    result = pair_round([peer(1), peer(2), peer(3)], [], [frozenset((1, 2))], round_index=0)
    assert len(result.groups) == 1
    assert len(result.unplaced) == 1
    assert frozenset((1, 2)) not in pairs_of(result.groups)


def test_avoid_entries_about_absent_members_are_ignored() -> None:
    result = pair_round([peer(1), peer(2)], [], [frozenset((1, 99)), frozenset((5, 6))], round_index=0)
    assert result.groups == ((1, 2),)


def test_the_result_does_not_depend_on_the_order_of_the_candidates() -> None:
    candidates = [Candidate(i, ROLES[i % 3], (i % 7) * 60) for i in range(1, 40)]
    shuffled = candidates[:]
    random.Random(3).shuffle(shuffled)
    assert pair_round(candidates, [], [], round_index=5, seed=9) == pair_round(shuffled, [], [], round_index=5, seed=9)


def test_the_seed_breaks_ties_between_equally_good_partners() -> None:
    candidates = [peer(i) for i in range(1, 21)]
    results = {pair_round(candidates, [], [], round_index=0, seed=seed).groups for seed in range(5)}
    assert len(results) > 1


def test_an_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError, match="role"):
        pair_round([Candidate(1, "captain", 0), peer(2)], [], [], round_index=0)


def test_a_negative_number_of_recent_rounds_is_refused() -> None:
    with pytest.raises(ValueError, match="recent_rounds"):
        pair_round([peer(1), peer(2)], [], [], round_index=0, recent_rounds=-1)


def test_a_member_listed_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        pair_round([peer(1), peer(1), peer(2)], [], [], round_index=0)


# ---------------------------------------------------------------------------------------------
# The weight function
# ---------------------------------------------------------------------------------------------


def test_a_pair_that_met_within_the_recent_rounds_has_no_weight() -> None:
    index = build_history_index([met(ROUND - RECENT, 1, 2), met(ROUND - RECENT - 1, 3, 4)])
    assert pair_weight(peer(1), peer(2), index, ROUND, RECENT) is None
    assert pair_weight(peer(3), peer(4), index, ROUND, RECENT) is not None


def test_the_history_index_keeps_the_last_round_of_every_pair_in_a_trio() -> None:
    index = build_history_index([met(5, 1, 2), met(3, 1, 2, 3), met(1, 2, 3)])
    assert index == {frozenset((1, 2)): 5, frozenset((1, 3)): 3, frozenset((2, 3)): 3}


offsets = st.integers(min_value=-720, max_value=840)
roles = st.sampled_from(ROLES)


@SETTINGS
@given(roles, roles, offsets, offsets, roles, roles, offsets, offsets, st.integers(RECENT + 1, 60))
def test_a_never_met_pair_outweighs_any_repeat_whatever_the_roles_and_offsets(
    ra: str, rb: str, oa: int, ob: int, rc: str, rd: str, oc: int, od: int, age: int
) -> None:
    index = build_history_index([met(ROUND - age, 3, 4)])
    new = pair_weight(Candidate(1, ra, oa), Candidate(2, rb, ob), index, ROUND, RECENT)
    repeat = pair_weight(Candidate(3, rc, oc), Candidate(4, rd, od), index, ROUND, RECENT)
    assert new is not None and repeat is not None
    assert new > repeat


@SETTINGS
@given(
    offsets,
    offsets,
    offsets,
    offsets,
    st.sampled_from(
        [("peer", "peer"), ("peer", "mentor"), ("mentee", "peer"), ("mentor", "mentor"), ("mentee", "mentee")]
    ),
)
def test_a_mentee_with_a_mentor_outweighs_any_other_roles_whatever_the_offsets(
    oa: int, ob: int, oc: int, od: int, other: tuple[str, str]
) -> None:
    mentoring = pair_weight(mentee(1, oa), mentor(2, ob), {}, ROUND, RECENT)
    rest = pair_weight(Candidate(3, other[0], oc), Candidate(4, other[1], od), {}, ROUND, RECENT)
    assert mentoring is not None and rest is not None
    assert mentoring > rest


@SETTINGS
@given(offsets, offsets, offsets, offsets, st.sampled_from(["mentor", "mentee"]))
def test_any_pair_with_a_peer_outweighs_two_mentors_or_two_mentees(
    oa: int, ob: int, oc: int, od: int, role: str
) -> None:
    with_peer = pair_weight(peer(1, oa), Candidate(2, role, ob), {}, ROUND, RECENT)
    same = pair_weight(Candidate(3, role, oc), Candidate(4, role, od), {}, ROUND, RECENT)
    assert with_peer is not None and same is not None
    assert with_peer > same


@SETTINGS
@given(roles, roles, st.integers(0, 720), st.integers(0, 720))
def test_closer_offsets_weigh_more(ra: str, rb: str, gap_a: int, gap_b: int) -> None:
    near, far = sorted((gap_a, gap_b))
    w_near = pair_weight(Candidate(1, ra, 0), Candidate(2, rb, near), {}, ROUND, RECENT)
    w_far = pair_weight(Candidate(1, ra, 0), Candidate(2, rb, far), {}, ROUND, RECENT)
    assert w_near is not None and w_far is not None
    assert w_near >= w_far
    if near < far:
        assert w_near > w_far


@SETTINGS
@given(st.integers(RECENT + 1, 100), st.integers(RECENT + 1, 100))
def test_an_older_repeat_weighs_more_than_a_more_recent_one(age_a: int, age_b: int) -> None:
    older, newer = sorted((age_a, age_b), reverse=True)
    index = build_history_index([met(ROUND - older, 1, 2), met(ROUND - newer, 3, 4)])
    w_older = pair_weight(peer(1), peer(2), index, ROUND, RECENT)
    w_newer = pair_weight(peer(3), peer(4), index, ROUND, RECENT)
    assert w_older is not None and w_newer is not None
    assert w_older >= w_newer
    if older > newer:
        assert w_older > w_newer


# ---------------------------------------------------------------------------------------------
# Properties, with brute force on small groups
# ---------------------------------------------------------------------------------------------


def groupings(members: list[int], avoid: set[frozenset[int]]) -> Iterator[tuple[list[tuple[int, ...]], int]]:
    """Yield every split into pairs and at most one trio (some maybe left out), with the count placed."""

    def split(rest: list[int], groups: list[tuple[int, ...]], trio: bool) -> Iterator[list[tuple[int, ...]]]:
        if not rest:
            yield groups
            return
        first, others = rest[0], rest[1:]
        yield from split(others, groups, trio)  # first left out
        for k, b in enumerate(others):
            if frozenset((first, b)) in avoid:
                continue
            remaining = others[:k] + others[k + 1 :]
            yield from split(remaining, [*groups, (first, b)], trio)
            if trio:
                continue
            for m, c in enumerate(remaining):
                if frozenset((first, c)) not in avoid and frozenset((b, c)) not in avoid:
                    yield from split(remaining[:m] + remaining[m + 1 :], [*groups, (first, b, c)], True)

    for groups in split(members, [], False):
        yield groups, sum(len(g) for g in groups)


@st.composite
def small_rounds(draw: st.DrawFn, max_members: int = 8) -> tuple[list[Candidate], list[PastGroup], set]:
    n = draw(st.integers(0, max_members))
    ids = draw(st.lists(st.integers(1, 10_000), min_size=n, max_size=n, unique=True))
    candidates = [
        Candidate(user_id, draw(roles), draw(st.sampled_from([-480, -300, 0, 60, 330, 540]))) for user_id in ids
    ]
    all_pairs = [frozenset(p) for p in combinations(ids, 2)]
    avoid = set(draw(st.lists(st.sampled_from(all_pairs), max_size=4))) if all_pairs else set()
    history: list[PastGroup] = []
    if n >= 2:
        for _ in range(draw(st.integers(0, 3 * n))):
            size = draw(st.sampled_from([2, 2, 2, 3])) if n >= 3 else 2
            members = draw(st.lists(st.sampled_from(ids), min_size=size, max_size=size, unique=True))
            history.append(PastGroup(draw(st.integers(0, ROUND - 1)), frozenset(members)))
    return candidates, history, avoid


@SETTINGS
@given(small_rounds(), st.integers(0, 3))
def test_small_rounds_place_as_many_as_possible_and_repeat_recent_pairs_only_when_unavoidable(
    case: tuple[list[Candidate], list[PastGroup], set], seed: int
) -> None:
    candidates, history, avoid = case
    result = pair_round(candidates, history, avoid, round_index=ROUND, recent_rounds=RECENT, seed=seed)
    check_shape(result, candidates)
    assert not pairs_of(result.groups) & avoid

    recent = recent_pairs(history)
    best_placed = 0
    repeat_free = False
    for groups, placed in groupings(sorted(c.user_id for c in candidates), avoid):
        if placed > best_placed:
            best_placed, repeat_free = placed, False
        if placed == best_placed and not pairs_of(groups) & recent:
            repeat_free = True
    assert len(candidates) - len(result.unplaced) == best_placed
    if repeat_free:
        assert not pairs_of(result.groups) & recent


@st.composite
def larger_rounds(draw: st.DrawFn) -> tuple[list[Candidate], list[PastGroup], set]:
    n = draw(st.integers(0, 60))
    rng = random.Random(draw(st.integers(0, 2**32)))
    ids = rng.sample(range(1, 100_000), n)
    candidates = [Candidate(i, rng.choice(ROLES), rng.choice(range(-720, 841, 30))) for i in ids]
    avoid = {frozenset(rng.sample(ids, 2)) for _ in range(n // 4)} if n >= 2 else set()
    history = []
    for round_index in range(ROUND) if n >= 2 else ():
        order = ids[:]
        rng.shuffle(order)
        history += [PastGroup(round_index, frozenset(order[k : k + 2])) for k in range(0, n - 1, 2)]
    return candidates, history, avoid


@SETTINGS
@given(larger_rounds(), st.integers(0, 3))
def test_every_member_is_placed_once_in_pairs_and_one_trio_and_no_avoided_pair_ever_meets(
    case: tuple[list[Candidate], list[PastGroup], set], seed: int
) -> None:
    candidates, history, avoid = case
    result = pair_round(candidates, history, avoid, round_index=ROUND, seed=seed)
    check_shape(result, candidates)
    assert not pairs_of(result.groups) & avoid
    # Plenty of never-met partners in these groups, so nobody needs a recent repeat.
    if len(candidates) >= 30:
        assert not pairs_of(result.groups) & recent_pairs(history)


@SETTINGS
@given(larger_rounds(), st.integers(0, 3))
def test_the_same_inputs_and_seed_give_the_same_round(
    case: tuple[list[Candidate], list[PastGroup], set], seed: int
) -> None:
    candidates, history, avoid = case
    first = pair_round(candidates, history, avoid, round_index=ROUND, seed=seed)
    again = pair_round(list(reversed(candidates)), history[::-1], list(avoid), round_index=ROUND, seed=seed)
    assert first == again


@SETTINGS
@given(st.integers(1, 20), st.integers(0, 20), st.integers(0, 30), st.integers(0, 3))
def test_every_mentee_gets_a_mentor_when_there_are_enough_and_offsets_agree(
    mentees: int, extra_mentors: int, peers: int, seed: int
) -> None:
    roles_list = ["mentee"] * mentees + ["mentor"] * (mentees + extra_mentors) + ["peer"] * peers
    candidates = [Candidate(i, role, 60) for i, role in enumerate(roles_list, start=1)]
    result = pair_round(candidates, [], [], round_index=0, seed=seed)
    check_shape(result, candidates)
    role_of = {c.user_id: c.role for c in candidates}
    for group in result.groups:
        if any(role_of[u] == "mentee" for u in group):
            assert any(role_of[u] == "mentor" for u in group)


def test_a_large_group_keeps_every_rule_round_after_round() -> None:
    rng = random.Random(11)
    offsets_pool = [-480, -300, -300, 0, 0, 60, 60, 120, 330, 540]
    candidates = [
        Candidate(i, rng.choice(["peer"] * 3 + ["mentor", "mentee"]), rng.choice(offsets_pool)) for i in range(1, 602)
    ]
    ids = [c.user_id for c in candidates]
    avoid = {frozenset(rng.sample(ids, 2)) for _ in range(60)}
    history: list[PastGroup] = []
    for round_index in range(30):
        result = pair_round(candidates, history, avoid, round_index=round_index, seed=round_index)
        check_shape(result, candidates)
        assert result.unplaced == ()
        assert not pairs_of(result.groups) & avoid
        assert not pairs_of(result.groups) & recent_pairs(history, round_index)
        history += [PastGroup(round_index, frozenset(group)) for group in result.groups]
    role_of = {c.user_id: c.role for c in candidates}
    mentees = sum(role == "mentee" for role in role_of.values())
    mentored = sum(
        1
        for group in result.groups
        for u in group
        if role_of[u] == "mentee" and any(role_of[v] == "mentor" for v in group)
    )
    assert mentored >= 0.9 * min(mentees, sum(role == "mentor" for role in role_of.values()))


# ---------------------------------------------------------------------------------------------
# Rejoining mid-cycle
# ---------------------------------------------------------------------------------------------


def test_rejoin_prefers_a_waiting_single_to_joining_a_pair() -> None:
    group = (peer(2), peer(3))
    assert rejoin(peer(1), [peer(9, 600)], [group], [], [], round_index=ROUND) == (1, 9)


def test_rejoin_picks_the_best_single() -> None:
    singles = [peer(2), mentor(3, 120), mentee(4)]
    assert rejoin(mentee(1), singles, [], [], [], round_index=ROUND) == (1, 3)


def test_rejoin_joins_the_pair_that_fits_best_as_a_trio_when_nobody_is_waiting() -> None:
    groups = [(peer(2, 600), peer(3, 600)), (peer(4, 60), mentor(5, 0)), (peer(6), peer(7))]
    assert rejoin(mentee(1), [], groups, [], [], round_index=ROUND) == (1, 4, 5)


def test_rejoin_skips_singles_and_groups_with_a_member_the_orphan_avoids_or_who_avoids_them() -> None:
    avoid = [frozenset((1, 9)), frozenset((5, 1))]
    groups = [(peer(4), mentor(5)), (peer(6, 300), peer(7, 300))]
    assert rejoin(mentee(1), [peer(9)], groups, [], avoid, round_index=ROUND) == (1, 6, 7)


def test_rejoin_prefers_a_pair_to_a_group_that_is_already_a_trio() -> None:
    groups = [(mentor(2), mentor(3), mentor(4)), (peer(5, 600), peer(6, 600))]
    assert rejoin(mentee(1), [], groups, [], [], round_index=ROUND) == (1, 5, 6)


def test_rejoin_uses_a_trio_when_no_pair_can_take_the_orphan() -> None:
    groups = [(mentor(2), mentor(3), mentor(4)), (peer(5), peer(6))]
    avoid = [frozenset((1, 6))]
    assert rejoin(mentee(1), [], groups, [], avoid, round_index=ROUND) == (1, 2, 3, 4)


def test_rejoin_prefers_a_single_not_met_recently() -> None:
    history = [met(ROUND - 1, 1, 2)]
    assert rejoin(peer(1), [peer(2), peer(3, 700)], [], history, [], round_index=ROUND) == (1, 3)


def test_rejoin_raises_when_there_is_nowhere_to_go() -> None:
    with pytest.raises(ValueError):
        rejoin(peer(1), [peer(2)], [(peer(3), peer(4))], [], [frozenset((1, 2)), frozenset((1, 3))], round_index=ROUND)
    with pytest.raises(ValueError):
        rejoin(peer(1), [], [], [], [], round_index=ROUND)

from bot.logic.replans import FreshPlans


def test_only_items_planned_during_a_bulk_plan_are_left_to_their_own_plans():
    fresh = FreshPlans()
    fresh.planned(1)  # before any bulk plan: nothing to keep it from
    with fresh.bulk() as first:
        fresh.planned(2)
        with fresh.bulk() as second:  # two at once each hear of what came after they began
            fresh.planned(3)
        fresh.planned(4)
    fresh.planned(5)
    assert first == {2, 3, 4} and second == {3}


def test_a_bulk_plan_that_fails_stops_listening():
    fresh = FreshPlans()
    try:
        with fresh.bulk() as seen:
            raise RuntimeError
    except RuntimeError:
        pass
    fresh.planned(7)
    assert seen == set()

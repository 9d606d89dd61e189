from oimws.session import RequestBudget


class Clock:
    def __init__(self) -> None:
        self.now = 0.0  # steps of 1/8 s add up exactly in binary

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_rate():
    clock = Clock()
    budget = RequestBudget(rate=4.0, burst=5, clock=clock)
    assert [budget.take() for _ in range(6)] == [True] * 5 + [False]
    clock.now += 0.125  # half a request's worth
    assert not budget.take()
    clock.now += 0.125
    assert budget.take()
    assert not budget.take()


def test_never_more_than_the_burst_is_saved_up():
    clock = Clock()
    budget = RequestBudget(rate=4.0, burst=3, clock=clock)
    clock.now += 3600.0
    assert [budget.take() for _ in range(4)] == [True, True, True, False]

import time

from oimws.session import RequestBudget


def test_a_burst_then_the_rate():
    budget = RequestBudget(rate=1000.0, burst=5)
    assert all(budget.take() for _ in range(5))
    assert not budget.take()
    time.sleep(0.01)  # 1000 a second refills about ten
    assert budget.take()


def test_never_more_than_the_burst_is_saved_up():
    budget = RequestBudget(rate=1_000_000.0, burst=3)
    time.sleep(0.01)
    assert [budget.take() for _ in range(4)] == [True, True, True, False]

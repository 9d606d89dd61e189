import pytest

from oimws._speedups.fanout import send_to_all


def test_nothing_to_send_to():
    assert send_to_all([], b"frame", 1024) == []


def test_a_wrong_object_raises_instead_of_corrupting_memory():
    with pytest.raises(TypeError):
        send_to_all([object()], b"frame", 1024)

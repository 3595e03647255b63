"""Restoration tests run their models on one thread (the suite runs beside other work)."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)

"""The one seeding helper makes NumPy and PyTorch draws repeatable."""

import numpy as np
import pytest
import torch

from amnl_utils.core.seeding import seed_everything


def test_same_seed_same_draws_different_seed_different_draws():
    g1 = seed_everything(3)
    a = (g1.normal(size=4), np.random.rand(2), torch.rand(3))
    g2 = seed_everything(3)
    b = (g2.normal(size=4), np.random.rand(2), torch.rand(3))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    g3 = seed_everything(4)
    assert not np.array_equal(g3.normal(size=4), a[0])


@pytest.mark.parametrize("bad", [-1, 1.5, "0"])
def test_bad_seed(bad):
    with pytest.raises(ValueError, match="seed must be"):
        seed_everything(bad)

"""`make test` runs every property with its full example count; `make test-fast` (the fast profile) a share of it."""

import pytest
from hypothesis import settings

from helpers import examples


@pytest.mark.parametrize(
    "profile, n, expected",
    [("default", 300, 300), ("default", 12, 12), ("fast", 300, 75), ("fast", 25, 10), ("fast", 8, 8)],
)
def test_a_propertys_examples_follow_the_profile(profile, n, expected):
    before = settings.get_current_profile_name()
    settings.load_profile(profile)
    try:
        assert examples(n) == expected
    finally:
        settings.load_profile(before)

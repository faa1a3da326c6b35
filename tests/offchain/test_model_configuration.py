"""The model refuses the constructor arguments the contract refuses, with the same error."""

import pytest

from channel_manager.errors import ERRORS
from channel_manager.model import ChannelManagerModel

HUB = "0x" + "11" * 20
TOKEN = "0x" + "22" * 20
SELF = "0x" + "33" * 20


@pytest.mark.parametrize(
    "hub, period, has_code",
    [
        (HUB, 0, True),
        (HUB, 365 * 86400 + 1, True),
        ("0x" + "00" * 20, 3600, True),
        (HUB, 3600, False),
    ],
    ids=["zero_period", "period_above_365_days", "zero_hub", "token_without_code"],
)
def test_model_reverts_when_configuration_invalid(hub, period, has_code):
    with pytest.raises(ERRORS["InvalidConfiguration"]) as caught:
        ChannelManagerModel(hub, period, SELF, token_has_code=has_code, token=TOKEN)
    assert caught.value.args == (hub, period, TOKEN)


def test_model_accepts_the_configuration_bounds():
    for period in (1, 365 * 86400):
        assert ChannelManagerModel(HUB, period, SELF, token=TOKEN).challenge_period == period

"""A buy at a person's pace with the demo market running (SLOW: about 70-90 s).

The market moves as in ``make demo`` (a market day every 30 s in 6 price steps, the chain
on real time): the person opens the buy dialog, types an amount, reads the preview for a
full minute while prices move, and clicks Confirm once. It must go through: no "quote
expired", no slippage failure, no second click. Real devnet, real keyring, real window.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time  # noqa: E402
from decimal import Decimal  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from tests.gui_support import WAIT, click, close_app, open_app, wait_done, wait_quote  # noqa: E402
from tests.test_gui_e2e import (  # noqa: E402, F401 - fixtures and helpers shared
    _app,
    devnet,
    funded_service,
    open_buy,
)
from wallet_app.devnet.embedded import clock_path  # noqa: E402
from wallet_app.devnet.market_clock import MarketClock  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.chain, pytest.mark.keyring, pytest.mark.slow]

PERSON_PACE_S = 60


def test_SLOW_buy_confirmed_a_minute_later_with_the_market_running(  # noqa: N802
        qtbot, devnet, tmp_path: Path) -> None:  # noqa: ANN001, F811
    """SLOW (~70 s): open Buy, wait 60 s with the demo market moving, confirm once."""
    from web3 import Web3

    paths, dev = devnet
    svc = funded_service(tmp_path, devnet, "", Decimal(1), Decimal(2000))
    win, ctl = open_app(qtbot, svc, auto_onboard=False)
    svc.start_market()  # the demo's own speed: the same call `index-wallet demo` makes
    try:
        dlg = open_buy(qtbot, win, ctl, "750")
        wait_quote(qtbot, dlg)
        first_quote_at = dlg.quote_time
        before = MarketClock.load(clock_path(svc.session.paths))
        assert before is not None and before.day_s > 0
        qtbot.wait(PERSON_PACE_S * 1000)  # the person reads the preview

        def moved() -> int:
            after = MarketClock.load(clock_path(svc.session.paths))
            assert after is not None
            return (after.day_index - before.day_index) * after.steps + after.step \
                - before.step

        # The market loop and the quote refresh are threads: on a loaded machine they can
        # lag the person's minute, so poll for them (failing if they never come).
        qtbot.waitUntil(lambda: moved() >= 6, timeout=WAIT)  # the demo market moved
        qtbot.waitUntil(lambda: dlg.quote_time > first_quote_at,
                        timeout=WAIT)  # the open preview kept itself fresh
        click(qtbot, dlg.confirm_button)
        wait_done(qtbot, dlg)
        assert dlg.result is not None and dlg.result.shares > 0
        # The chain's clock is the wall clock: a minute of reading is a minute on-chain.
        w3 = Web3(Web3.HTTPProvider(dev.node.rpc_url))
        # Never ahead of the wall clock (no warp); behind only by the time since the last
        # block, which a loaded machine can stretch past a few seconds.
        assert -60 < w3.eth.get_block("latest")["timestamp"] - time.time() < 5
    finally:
        close_app(ctl, svc)
    assert paths.devnet_dir.is_dir()

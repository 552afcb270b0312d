"""A cancellation the app's periodic refresh recorded first is still the cancel's result.

Found under load: the refresh thread verified and recorded the ``RequestCancelled`` between
the cancel's receipt and the cancel's own look-up, and the user was told "The cancel did
not go through" although the request was cancelled."""

from __future__ import annotations

from types import SimpleNamespace

from wallet_app.services.trading import TradingService

ME = "0x" + "11" * 20


class _Journal:
    def __init__(self, state: str) -> None:
        self.rec = SimpleNamespace(tx_hash="0xabc", kind="buy")
        self.meta = {"request_id": 7, "request_state": state, "settled_block": 42}

    def transactions(self, sender: str, chain_id: int) -> list[SimpleNamespace]:
        assert sender == ME and chain_id == 31337
        return [SimpleNamespace(tx_hash="0xother", kind="send"), self.rec]

    def entry(self, tx_hash: str) -> SimpleNamespace | None:
        return SimpleNamespace(meta=self.meta) if tx_hash == "0xabc" else None


def _look(state: str, rid: int = 7):  # noqa: ANN202
    fake = SimpleNamespace(s=SimpleNamespace(journal=_Journal(state)))
    return TradingService._recorded_cancel(fake, ME, rid, 31337)  # type: ignore[arg-type]


def test_a_cancellation_already_recorded_is_returned() -> None:
    got = _look("cancelled")
    assert got is not None and got.state == "cancelled" and got.request_id == 7
    assert got.block_number == 42 and got.tx_hash == "0xabc"


def test_anything_else_is_not_taken_for_a_cancellation() -> None:
    assert _look("pending") is None
    assert _look("settled") is None
    assert _look("cancelled", rid=8) is None

"""The embedded devnet seen from the facade: start it on demand, the test faucet and the
simulated market driver. Every method refuses on any other network."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ..errors import WalletError
from .session import Session
from .types import NetworkStatus, NoWallet


class DevnetService:
    """Devnet-only conveniences: cold start, test funds, a moving demo market."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.driver: Any = None  # the devnet's demo market driver, when running

    def _require_devnet(self, what: str) -> None:
        if not self.s.is_devnet or self.s.devnet is None:
            raise WalletError(what)

    def _web3(self) -> Any:
        from web3 import Web3

        assert self.s.client is not None
        return Web3(Web3.HTTPProvider(self.s.client.chain.rpc_url))

    def faucet(self, eth: Decimal = Decimal(10), usdc: Decimal = Decimal(10_000)) -> None:
        """Devnet only: test ETH and USDC for the active address."""
        self._require_devnet("Test funds exist only on the local devnet.")
        addr = self.s.active_address()
        if addr is None:
            raise NoWallet()
        from ..devnet.deploy import fund

        fund(self._web3(), self.s.devnet, addr, eth, usdc)
        self.s.forget_snapshot()  # balances changed: the next read goes to the chain

    def ensure_devnet(self, progress: Callable[[str], None] | None = None) -> NetworkStatus:
        """The embedded default: start, deploy and seed the local devnet if the settings
        select it (at its own address, no RPC URL given) and it is not running, then
        connect. A no-op on other networks or a devnet at an explicit URL."""
        if self.s.settings.network != "devnet" or self.s.settings.rpc_url:
            return self.s.status
        from ..devnet.embedded import ensure_devnet

        ensure_devnet(self.s.paths, progress=progress)
        return self.s.connect()

    def _driver(self) -> Any:
        from ..devnet.driver import MarketDriver

        assert self.s.client is not None
        if self.driver is None:
            self.driver = MarketDriver(self.s.paths, self.s.client.chain.rpc_url,
                                       self.s.devnet, hold=self.s.trade_lock)
        return self.driver

    def start_market(self, day_s: float | None = None,
                     on_tick: Callable[[Any], None] | None = None,
                     steps: int | None = None) -> Any:
        """Devnet demo mode: one market day every ``day_s`` seconds of wall time, in
        ``steps`` price steps (chain time stays real time; 0 runs the NAV keeper alone).

        The driver shares the trade lock, so prices never move between a trade's final
        check and its transaction.
        """
        from ..devnet.driver import DAY_S, STEPS

        self._require_devnet("The simulated market runs only on the local devnet.")
        driver = self._driver()
        driver.start(DAY_S if day_s is None else day_s, on_tick,
                     STEPS if steps is None else steps)
        return driver

    def market_speed(self) -> str | None:
        """The demo speed in words for the UI, or None off the devnet or when paused."""
        if not self.s.is_devnet:
            return None
        from ..devnet.embedded import clock_path
        from ..devnet.market_clock import MarketClock

        clock = MarketClock.load(clock_path(self.s.paths))
        if clock is None or clock.day_s <= 0:
            return None
        return (f"Demo speed: 1 market day every {clock.day_s:g} s "
                f"(market calendar {clock.today:%a %d %b %Y})")

    def advance_market(self, days: int = 1,
                       progress: Callable[[str], None] | None = None) -> list[Any]:
        """Devnet: advance the simulated market ``days`` days now (operator included)."""
        self._require_devnet("The simulated market runs only on the local devnet.")
        driver = self._driver()
        reports = [driver.tick(progress) for _ in range(days)]
        self.s.forget_snapshot()
        return reports

    def close(self) -> None:
        if self.driver is not None:
            self.driver.stop()

"""SAMPLE DATA and a SAMPLE SERVICE for screenshots and view-level GUI tests. Never real.

The screens are views filled by a controller; to render them (screenshots) or drive them
with clicks (view tests) without a node, something has to answer the facade's calls. This
module is that something: :class:`SampleService` has the methods of
``wallet_app.facade.WalletService`` that the GUI uses and answers them from
``ui.sample_data`` plus a few synthetic trades and transactions. It signs nothing,
connects to nothing and holds no keys; its "mnemonic" is a fixed list of words that is
printed in this file for everyone to see. The end-to-end tests use the real service on a
real devnet instead (tests/test_gui_e2e.py).

The result objects here (status, wallet info, trade rows, ...) mirror the facade's
attribute names, because the GUI reads them by attribute only.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

from ui.sample_data import SAMPLE_AS_OF, sample_nav_history, sample_state
from wallet_app.config import Settings
from wallet_app.errors import WalletError
from wallet_app.keys.backup import BackupCheck, compare
from wallet_app.models import (
    BalanceChange,
    BuyQuote,
    GasEstimate,
    IndexEvent,
    IndexState,
    Position,
    SellQuote,
    TxRecord,
    TxStatus,
)

SAMPLE_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
SAMPLE_PASSWORD = "orbit lantern velvet tundra 42"  # noqa: S105 - the sample service's
#: Twenty-four words shown on the "write this down" screenshot. Public sample, not a key.
SAMPLE_WORDS = [
    "sample", "maple", "orbit", "velvet", "lantern", "canyon", "trophy", "glide",
    "ribbon", "marble", "harvest", "pilot", "sunset", "walnut", "cradle", "ember",
    "fossil", "meadow", "quartz", "timber", "violin", "anchor", "puzzle", "zebra",
]
Q6 = Decimal("0.000001")
Q18 = Decimal(1).scaleb(-18)


@dataclass(frozen=True)
class SampleAccount:
    address: str
    path: str
    index: int


@dataclass(frozen=True)
class SampleWalletInfo:
    name: str
    kind: str
    addresses: list[SampleAccount]
    needs_backup_check: bool = False


@dataclass(frozen=True)
class SampleNetworkStatus:
    network: str = "devnet"
    chain_name: str = "Local devnet"
    chain_id: int = 31337
    rpc_url: str = "http://127.0.0.1:8545"
    connected: bool = True
    block_number: int | None = 1_204_331
    last_ok: datetime | None = SAMPLE_AS_OF
    error: str | None = None
    is_devnet: bool = True


@dataclass(frozen=True)
class SampleVerdict:
    ok: bool
    score: int
    reason: str
    label: str


@dataclass(frozen=True)
class SampleSecret:
    words: list[str]


@dataclass(frozen=True)
class SampleStrategy:
    title: str
    paragraphs: list[str]
    rules: list[tuple[str, str]]
    regime: Any = None
    performance: Any = None
    unavailable: str = ""


@dataclass(frozen=True)
class SampleTradeRow:
    kind: str
    tx_hash: str
    timestamp: datetime
    usdc: Decimal
    shares: Decimal
    fee_usdc: Decimal
    nav_per_share: Decimal


@dataclass(frozen=True)
class SampleTradeResult:
    tx_hash: str
    status: TxStatus
    shares: Decimal
    usdc: Decimal
    block_number: int | None
    request_id: int | None = 2
    state: str = "settled"  # the sample keeper strikes at once


def _hash(n: int) -> str:
    """A hash-looking sample value (sha256 of a counter): not a real transaction."""
    return "0x" + hashlib.sha256(str(n).encode()).hexdigest()


def sample_gas(preset: str = "market") -> GasEstimate:
    """A plausible type-2 gas estimate (0.6 / 1.0 / 1.6 gwei tiers)."""
    tip = {"low": 1, "market": 2, "aggressive": 3}[preset]
    max_fee_gwei = {"low": 6, "market": 10, "aggressive": 16}[preset]
    limit = 182_000
    expected = (Decimal(146_000) * Decimal(max_fee_gwei) / 2 * Decimal("1e-9")).quantize(
        Q18)
    max_fee = (Decimal(limit) * Decimal(max_fee_gwei) * Decimal("1e-9")).quantize(Q18)
    eth_usd = Decimal("3412.85")
    return GasEstimate(
        gas_limit=limit, max_fee_per_gas_wei=max_fee_gwei * 10**9,
        max_priority_fee_wei=tip * 10**9, expected_fee_eth=expected, max_fee_eth=max_fee,
        expected_fee_usd=(expected * eth_usd).quantize(Decimal("0.01")),
        max_fee_usd=(max_fee * eth_usd).quantize(Decimal("0.01")), preset=preset)


def sample_buy_quote(usdc: Decimal = Decimal("250"), slippage_bps: int = 50,
                     preset: str = "market", nav: Decimal = Decimal("1.283471"),
                     fee_bps: int = 25) -> BuyQuote:
    fee = (usdc * fee_bps / 10_000).quantize(Q6, rounding=ROUND_DOWN)
    shares = ((usdc - fee) / nav).quantize(Q18, rounding=ROUND_DOWN)
    min_shares = (shares * (10_000 - slippage_bps) / 10_000).quantize(Q18, rounding=ROUND_DOWN)
    gas = sample_gas(preset)
    return BuyQuote(
        usdc_in=usdc, fee_usdc=fee, fee_bps=fee_bps, expected_shares=shares,
        min_shares_out=min_shares, min_value_usdc=(min_shares * nav).quantize(Q6),
        slippage_bps=slippage_bps, nav_per_share=nav, needs_approval=False, uses_permit=True,
        gas=gas,
        balance_changes=[BalanceChange("USDC", -usdc), BalanceChange("G100", shares),
                         BalanceChange("ETH", -gas.expected_fee_eth)],
        deadline=int(SAMPLE_AS_OF.timestamp()) + 1200)


def sample_sell_quote(shares: Decimal = Decimal("100"), slippage_bps: int = 50,
                      preset: str = "market", nav: Decimal = Decimal("1.283471"),
                      fee_bps: int = 25, path: str = "strike") -> SellQuote:
    gross = (shares * nav).quantize(Q6, rounding=ROUND_DOWN)
    fee = (gross * fee_bps / 10_000).quantize(Q6, rounding=ROUND_DOWN)
    expected = gross - fee
    gas = sample_gas(preset)
    return SellQuote(
        shares_in=shares, gross_usdc=gross, fee_usdc=fee, fee_bps=fee_bps,
        expected_usdc=expected,
        min_usdc_out=(expected * (10_000 - slippage_bps) / 10_000).quantize(
            Q6, rounding=ROUND_DOWN),
        slippage_bps=slippage_bps, path=path, gas=gas,
        balance_changes=[BalanceChange("G100", -shares), BalanceChange("USDC", expected),
                         BalanceChange("ETH", -gas.expected_fee_eth)],
        deadline=int(SAMPLE_AS_OF.timestamp()) + 1200)


def sample_position(shares: Decimal = Decimal("1947.812004511802367711")) -> Position:
    nav = Decimal("1.283471")
    value = (shares * nav).quantize(Decimal("0.01"))
    cost = Decimal("2310.00")
    return Position(
        address=SAMPLE_ADDRESS, shares=shares, value_usdc=value,
        usdc_balance=Decimal("7690.000000"), eth_balance=Decimal("0.981734112"),
        cost_basis_usdc=cost, realized_pnl_usdc=Decimal("41.27"),
        unrealized_pnl_usdc=value - cost, fees_paid_usdc=Decimal("6.42"))


def sample_trades() -> list[SampleTradeRow]:
    base = SAMPLE_AS_OF
    rows = [
        ("buy", 40, Decimal("1000"), Decimal("1.071200")),
        ("buy", 26, Decimal("1500"), Decimal("1.144950")),
        ("sell", 12, Decimal("420.55"), Decimal("1.262010")),
        ("buy", 3, Decimal("250"), Decimal("1.279934")),
    ]
    out = []
    for i, (kind, days, usdc, nav) in enumerate(rows):
        fee = (usdc * 25 / 10_000).quantize(Q6)
        shares = ((usdc - fee) / nav if kind == "buy" else (usdc + fee) / nav).quantize(Q18)
        out.append(SampleTradeRow(kind, _hash(0xB0B + i * 7919), base - timedelta(days=days),
                                  usdc, shares, fee, nav))
    return list(reversed(out))


def sample_transactions() -> list[TxRecord]:
    t = SAMPLE_AS_OF
    return [
        TxRecord(_hash(0xA11CE1), "buy", TxStatus.PENDING, 7, 31337, SAMPLE_ADDRESS,
                 t - timedelta(minutes=1), None, "Buy 250.00 USDC of G100"),
        TxRecord(_hash(0xA11CE2), "buy", TxStatus.CONFIRMED, 6, 31337, SAMPLE_ADDRESS,
                 t - timedelta(days=3), 1_201_880, "Buy 250.00 USDC of G100"),
        TxRecord(_hash(0xA11CE3), "sell", TxStatus.CONFIRMED, 5, 31337, SAMPLE_ADDRESS,
                 t - timedelta(days=12), 1_140_212, "Sell 333.56 G100 for USDC"),
        TxRecord(_hash(0xA11CE4), "cancel", TxStatus.REPLACED, 4, 31337, SAMPLE_ADDRESS,
                 t - timedelta(days=20), None, "Cancel nonce 4", _hash(0xA11CE5)),
        TxRecord(_hash(0xA11CE6), "approve", TxStatus.CONFIRMED, 2, 31337, SAMPLE_ADDRESS,
                 t - timedelta(days=40), 990_114, "Approve USDC for the vault"),
        TxRecord(_hash(0xA11CE7), "buy", TxStatus.FAILED, 1, 31337, SAMPLE_ADDRESS,
                 t - timedelta(days=41), 990_020, "Buy 1,000.00 USDC of G100 (reverted)"),
    ]


def sample_events() -> list[IndexEvent]:
    t = SAMPLE_AS_OF
    rows = [
        (1_204_100, "buy", "Buy: 250.00 USDC for 194.41 G100", 0, Decimal("250"),
         Decimal("194.41")),
        (1_203_000, "rebalance", "Weekly rebalance: 100 constituents, 37 trades", 2, None,
         None),
        (1_180_440, "sell", "Sell: 333.56 G100 for 420.55 USDC", 3, Decimal("420.55"),
         Decimal("333.56")),
        (1_150_002, "regime", "Regime switch: Bear \u2192 Bull (score 63)", 9, None, None),
        (1_149_990, "fee", "Buy fee changed: 0.30% \u2192 0.25%", 9, None, None),
        (1_100_230, "rebalance", "Bear regime: sold every holding to USDC", 16, None, None),
        (1_100_229, "regime", "Regime switch: Bull \u2192 Bear (score 31)", 16, None, None),
    ]
    return [IndexEvent(b, _hash(0xE0E0 + i), i, k, s, t - timedelta(days=d),
                       SAMPLE_ADDRESS if k in ("buy", "sell") else None, u, sh)
            for i, (b, k, s, d, u, sh) in enumerate(rows)]


def sample_strategy() -> SampleStrategy:
    from ui.sample_data import sample_regime_and_performance

    regime, performance = sample_regime_and_performance()
    return SampleStrategy(
        regime=regime, performance=performance,
        title="TM Global 100: how the index works",
        paragraphs=[
            "The index holds the 100 largest eligible crypto assets by market "
            "capitalisation, weighted by market cap with a 25% cap per asset. Stablecoins, "
            "wrapped and staked copies of other assets are not eligible.",
            "A regime signal compares the total market against its own moving average. "
            "In a Bull regime the index holds the 100 assets; after three closes past the "
            "Bear threshold it sells everything to USDC and waits, so a falling market "
            "is sat out in cash.",
            "The vault rebalances weekly, on Monday 00:00 UTC, and at once when the regime "
            "switches. Your buy is priced at the current NAV per share; the USDC waits as "
            "cash until the next rebalance invests it.",
        ],
        rules=[
            ("Constituents", "Top 100 eligible by market cap"),
            ("Weighting", "Market cap, capped at 25% per asset"),
            ("Rebalance", "Weekly, Monday 00:00 UTC"),
            ("Regime gauge", "score = clamp(50 + 250 \u00d7 \u03c1, 0, 100)"),
            ("Bull \u2192 Bear", "3 closes with \u03c1 below \u22125%"),
            ("Bear \u2192 Bull", "3 closes with \u03c1 above +5%"),
            ("Buy / sell fee", "0.25% each (maximum 1.00%)"),
        ])


class SampleError(WalletError):
    """Base of the sample failures; the view tests raise these to show error states."""


class TransactionReverted(SampleError):
    def __init__(self, reason: str, error_name: str | None = None) -> None:
        super().__init__(f"The transaction would fail: {reason} Nothing was signed or sent.")
        self.error_name = error_name


class InsufficientFundsForGas(SampleError):
    def __init__(self) -> None:
        super().__init__("Not enough ETH to pay for this transaction's gas. Add ETH to this "
                         "address, or choose a lower fee preset.")


class RpcUnavailable(SampleError):
    def __init__(self) -> None:
        super().__init__("Cannot reach the network at 127.0.0.1:8545; check your connection "
                         "or the RPC URL in Settings.")


class WrongNetwork(SampleError):
    def __init__(self) -> None:
        super().__init__("The RPC at 127.0.0.1:8545 is on chain 1, but this wallet is set to "
                         "devnet (chain 31337). Nothing was signed. Change the network or "
                         "the RPC URL in Settings.")


class WalletLocked(SampleError):
    def __init__(self, name: str = "Main") -> None:
        super().__init__(f"Wallet '{name}' is locked. Unlock it with its password first.")


class InvalidPassword(SampleError):
    def __init__(self) -> None:
        super().__init__("The password for the wallet is wrong. Check the keyboard layout "
                         "and Caps Lock and try again; nothing was changed.")


@dataclass
class SampleService:
    """Answers the facade's calls with sample data (see the module docstring).

    ``fail`` maps a method name to an exception raised on its next call (then removed),
    so tests can walk through failure states. ``delay`` slows the "network" calls a
    little, on the worker thread, so progress screens can be seen.
    """

    has_wallet: bool = True
    unlocked: bool = False
    delay: float = 0.0
    fail: dict[str, BaseException] = field(default_factory=dict)
    settings: Settings = field(default_factory=Settings)
    lock_timeout_seconds: int = 300
    calls: list[str] = field(default_factory=list)
    _position: Position | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    FEE_PRESETS = ("low", "market", "aggressive")

    def __post_init__(self) -> None:
        self._position = sample_position() if self.has_wallet else None
        self._wallets = [self._info("Main")] if self.has_wallet else []
        self._backup_words: list[str] = []
        self._state = sample_state()

    # -- helpers ---------------------------------------------------------------------
    def _call(self, name: str) -> None:
        with self._lock:
            self.calls.append(name)
            exc = self.fail.pop(name, None)
        if self.delay:
            time.sleep(self.delay)
        if exc is not None:
            raise exc

    @staticmethod
    def _info(name: str, kind: str = "mnemonic") -> SampleWalletInfo:
        return SampleWalletInfo(name, kind, [SampleAccount(SAMPLE_ADDRESS, "m/44'/60'/0'/0/0",
                                                           0)])

    # -- network ---------------------------------------------------------------------
    def save_settings(self, settings: Settings) -> None:
        self._call("save_settings")
        settings.validate()
        self.settings = settings
        self.lock_timeout_seconds = settings.lock_timeout_minutes * 60

    def connect(self) -> SampleNetworkStatus:
        self._call("connect")
        return SampleNetworkStatus()

    def network_status(self) -> SampleNetworkStatus:
        return SampleNetworkStatus()

    def refresh_status(self) -> SampleNetworkStatus:
        self._call("refresh_status")
        return SampleNetworkStatus()

    # -- wallets ---------------------------------------------------------------------
    def wallets(self) -> list[SampleWalletInfo]:
        return list(self._wallets)

    def active_wallet(self) -> SampleWalletInfo | None:
        return self._wallets[0] if self._wallets else None

    def select_wallet(self, name: str) -> None:
        self._call("select_wallet")

    def active_address(self) -> str | None:
        return SAMPLE_ADDRESS if self._wallets else None

    def password_verdict(self, password: str, name: str = "") -> SampleVerdict:
        if len(password) < 12:
            return SampleVerdict(False, 0 if len(password) < 6 else 1,
                                 f"it has {len(password)} characters; use at least 12 (a few "
                                 "unrelated words make a strong, memorable password)",
                                 "very weak" if len(password) < 6 else "weak")
        if name and name.lower() in password.lower():
            return SampleVerdict(False, 1, "it contains the wallet name; choose something "
                                 "unrelated to it", "weak")
        score = 4 if len(password) >= 20 else 3 if len(password) >= 16 else 2
        return SampleVerdict(True, score, "", ("fair", "good", "strong")[score - 2])

    def create_wallet(self, name: str, password: str, words: int = 24
                      ) -> tuple[SampleWalletInfo, SampleSecret]:
        self._call("create_wallet")
        info = self._info(name)
        self._wallets = [info]
        self._backup_words = SAMPLE_WORDS[:words]
        self.unlocked = True
        return info, SampleSecret(list(self._backup_words))

    def backup_challenge(self, name: str, k: int = 3) -> list[int]:
        return [3, 11, 20][:k]

    def verify_backup(self, name: str, answers: dict[int, str], password: str) -> BackupCheck:
        self._call("verify_backup")
        return compare(self._backup_words or SAMPLE_WORDS, answers)

    def import_mnemonic(self, name: str, phrase: str, password: str, passphrase: str = ""
                        ) -> SampleWalletInfo:
        self._call("import_mnemonic")
        self._wallets = [self._info(name)]
        return self._wallets[0]

    def import_private_key(self, name: str, hex_key: str, password: str) -> SampleWalletInfo:
        self._call("import_private_key")
        self._wallets = [self._info(name, "private_key")]
        return self._wallets[0]

    def import_keystore(self, name: str, keystore_json: str, keystore_password: str,
                        new_password: str) -> SampleWalletInfo:
        self._call("import_keystore")
        self._wallets = [self._info(name, "private_key")]
        return self._wallets[0]

    def unlock(self, password: str) -> None:
        self._call("unlock")
        if password != SAMPLE_PASSWORD:
            raise InvalidPassword()
        self.unlocked = True

    def lock(self) -> None:
        self.unlocked = False

    def is_unlocked(self) -> bool:
        return self.unlocked

    def touch(self) -> None:
        pass

    def seconds_until_lock(self) -> float | None:
        return float(self.lock_timeout_seconds) if self.unlocked else None

    # -- index -----------------------------------------------------------------------
    def index_state(self) -> IndexState:
        self._call("index_state")
        return self._state

    def nav_history(self) -> list[tuple[datetime, Decimal]]:
        self._call("nav_history")
        return sample_nav_history()

    def index_events(self, limit: int = 200) -> list[IndexEvent]:
        self._call("index_events")
        return sample_events()[:limit]

    def strategy(self) -> SampleStrategy:
        return sample_strategy()

    # -- position and trades ---------------------------------------------------------
    def position(self) -> Position | None:
        self._call("position")
        return self._position

    def my_trades(self) -> list[SampleTradeRow]:
        self._call("my_trades")
        return sample_trades() if self._position else []

    def quote_buy(self, usdc: Decimal, slippage_bps: int | None = None,
                  fee_preset: str = "market") -> BuyQuote:
        self._call("quote_buy")
        assert isinstance(usdc, Decimal), "amounts cross the facade as Decimal"
        return sample_buy_quote(usdc, slippage_bps or self.settings.slippage_bps, fee_preset)

    def buy(self, quote: BuyQuote, progress: Callable[[str], None] | None = None
            ) -> SampleTradeResult:
        if not self.unlocked:
            raise WalletLocked()
        say = progress or (lambda _m: None)
        say("Signing the buy transaction")
        self._call("buy")
        tx = _hash(0xB11 + int(quote.usdc_in))
        say(f"Broadcast {tx}")
        time.sleep(self.delay)
        say("Waiting for confirmation")
        time.sleep(self.delay)
        pos = self._position or sample_position(Decimal(0))
        shares = pos.shares + quote.expected_shares
        self._position = replace(pos, shares=shares,
                                 value_usdc=(shares * quote.nav_per_share).quantize(Q6),
                                 cost_basis_usdc=pos.cost_basis_usdc + quote.usdc_in,
                                 usdc_balance=pos.usdc_balance - quote.usdc_in)
        say("Confirmed in block 1204332")
        return SampleTradeResult(tx, TxStatus.CONFIRMED, quote.expected_shares,
                                 quote.usdc_in, 1_204_332)

    def quote_sell(self, shares: Decimal, slippage_bps: int | None = None,
                   fee_preset: str = "market") -> SellQuote:
        self._call("quote_sell")
        assert isinstance(shares, Decimal), "amounts cross the facade as Decimal"
        # Sample rule: large sells pass the (sample) cash on hand: the operator raises it.
        path = "waits_for_cash" if shares > Decimal(1500) else "strike"
        return sample_sell_quote(shares, slippage_bps or self.settings.slippage_bps,
                                 fee_preset, path=path)

    def sell(self, quote: SellQuote, progress: Callable[[str], None] | None = None
             ) -> SampleTradeResult:
        if not self.unlocked:
            raise WalletLocked()
        say = progress or (lambda _m: None)
        say("Signing the sell transaction")
        self._call("sell")
        tx = _hash(0x5E11 + int(quote.shares_in))
        say(f"Broadcast {tx}")
        time.sleep(self.delay)
        say("Waiting for confirmation")
        pos = self._position or sample_position(Decimal(0))
        shares = pos.shares - quote.shares_in
        self._position = replace(pos, shares=shares,
                                 value_usdc=(shares * Decimal("1.283471")).quantize(Q6),
                                 usdc_balance=pos.usdc_balance + quote.expected_usdc)
        return SampleTradeResult(tx, TxStatus.CONFIRMED, quote.shares_in,
                                 quote.expected_usdc, 1_204_333)

    # -- journal ---------------------------------------------------------------------
    def transactions(self) -> list[TxRecord]:
        self._call("transactions")
        return sample_transactions()

    def speed_up(self, tx_hash: str) -> TxRecord:
        self._call("speed_up")
        return replace(sample_transactions()[0], tx_hash=_hash(0xFA57))

    def cancel(self, tx_hash: str) -> TxRecord:
        self._call("cancel")
        return replace(sample_transactions()[0], kind="cancel", tx_hash=_hash(0xCA9C))

    def export_csv(self, path: Path) -> int:
        self._call("export_csv")
        rows = sample_transactions()
        lines = ["tx_hash,kind,status,created_at"] + [
            f"{r.tx_hash},{r.kind},{r.status.value},{r.created_at.isoformat()}" for r in rows]
        Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
        return len(rows)

    def faucet(self) -> None:
        self._call("faucet")


def now_utc() -> datetime:
    return datetime.now(UTC)


def any_attr(obj: Any, *names: str, default: Any = None) -> Any:
    """The first attribute of ``obj`` that exists (the facade may name a field either way)."""
    for n in names:
        if hasattr(obj, n):
            return getattr(obj, n)
    return default

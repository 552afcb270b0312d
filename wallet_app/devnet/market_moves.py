"""Moving a deployed devnet market: the faucet, pool prices, price moves (the feed is
written and the pool traded to the new price with a real swap, the arbitrage a live market
would do), NAV refreshes and strikes (kept out of ``wallet_app/devnet/deploy.py``).

Money is ``Decimal`` or integer base units throughout, never float.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

from eth_abi import encode as abi_encode
from web3 import Web3

from ..errors import DevnetError
from . import artifacts
from .deployment import Deployment, TokenInfo
from .tx_batch import TxBatch, contract
from .units import MAX_RESERVE, USDC_DECIMALS, feed_answer, to_units


def fund(w3: Web3, deployment: Deployment, address: str, eth: Decimal, usdc: Decimal) -> None:
    """Faucet: send ``eth`` ETH and mint ``usdc`` USDC to ``address`` (from account 0)."""
    to = Web3.to_checksum_address(address)
    deployer = deployment.roles["deployer"]
    tx = TxBatch(w3)
    if eth > 0:
        tx.send("faucet ETH", deployer, to, "0x", 21_000, value=to_units(eth, 18))
    if usdc > 0:
        usdc_c = contract(w3, deployment, "USDC")
        tx.send(
            "faucet USDC",
            deployer,
            usdc_c.address,
            usdc_c.encode_abi("mint", [to, to_units(usdc, USDC_DECIMALS)]),
            100_000,
        )
    tx.wait()


def _reserves(w3: Web3, t: TokenInfo, usdc: str) -> tuple[int, int, bool]:
    """(token reserve, USDC reserve, token is token0) of a constituent's pool."""
    pair = w3.eth.contract(address=t.pair, abi=artifacts.load("UniswapV2Pair").abi)
    r0, r1, _ = pair.functions.getReserves().call()
    token_is_0 = int(t.address, 16) < int(usdc, 16)
    return (r0, r1, True) if token_is_0 else (r1, r0, False)


def pool_price(w3: Web3, deployment: Deployment, symbol: str) -> Decimal:
    """USD per whole token implied by the pool's reserves (spot, before fees)."""
    t = deployment.token(symbol)
    rt, ru, _ = _reserves(w3, t, deployment.usdc)
    return (Decimal(ru).scaleb(-USDC_DECIMALS) / Decimal(rt).scaleb(-t.decimals)).normalize()


def _amount_out(amount_in: int, r_in: int, r_out: int) -> int:
    """Uniswap V2's getAmountOut (0.3% fee), exactly as the pair checks it."""
    fee_in = amount_in * 997
    return fee_in * r_out // (r_in * 1000 + fee_in)


def _arbitrage_input(rt: int, ru: int, target: Fraction) -> tuple[bool, int]:
    """(pay USDC?, smallest input) that trades the pool to at least/most ``target``
    (USDC units per token unit). Returns input 0 when the pool is already there."""
    current = Fraction(ru, rt)
    if current == target:
        return True, 0
    usdc_in = target > current

    def reached(x: int) -> bool:
        if usdc_in:
            out = _amount_out(x, ru, rt)
            return out < rt and Fraction(ru + x, rt - out) >= target
        out = _amount_out(x, rt, ru)
        return out < ru and Fraction(ru - out, rt + x) <= target

    r_in = ru if usdc_in else rt
    hi = max(1, r_in // 1000)
    while not reached(hi):
        hi *= 2
        if hi > MAX_RESERVE:
            raise ValueError("target price is out of the pool's reach")
    lo = 0
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if reached(mid):
            hi = mid
        else:
            lo = mid
    return usdc_in, hi


def set_prices(
    w3: Web3,
    deployment: Deployment,
    prices: Mapping[str, Decimal],
    *,
    refresh_nav: bool = False,
) -> dict[str, Decimal]:
    """Write new USD prices into the feeds and trade each pool to its new price.

    The arbitrage is a real Uniswap V2 swap: account 0 mints the input straight into the
    pair and calls ``swap`` for the exact ``getAmountOut``. All transactions are signed
    locally with account 0's key, go out as one JSON-RPC batch and are awaited once.
    With ``refresh_nav`` the operator then refreshes the vault's NAV cache. Returns each
    pool's new spot price (USD per token). The whole batch is mined as one block
    (automine paused), which keeps a 100-token move well under one second.
    """
    tokens = [deployment.token(sym) for sym in prices]
    reserves = _all_reserves(w3, deployment, tokens)
    tx = TxBatch(w3)
    spots: dict[str, Decimal] = {}
    _automine(w3, False)
    try:
        _queue_price_moves(tx, deployment, prices, tokens, reserves, spots)
        tx.flush()  # one batch of signed transactions into the paused pool
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    finally:
        _automine(w3, True)
    tx.wait()
    if refresh_nav:
        refresh(w3, deployment)
    return spots


def _automine(w3: Web3, on: bool) -> None:
    w3.provider.make_request("evm_setAutomine", [on])  # type: ignore[arg-type]


def _queue_price_moves(tx: TxBatch, deployment: Deployment, prices: Mapping[str, Decimal],
                       tokens: Sequence[TokenInfo], reserves: list[tuple[int, int, bool]],
                       spots: dict[str, Decimal]) -> None:
    """Queue each feed update and pool arbitrage; ``spots`` gets the new pool prices."""
    deployer = deployment.roles["deployer"]
    usdc_addr = deployment.usdc
    for (symbol, price), t, (rt, ru, token_is_0) in zip(prices.items(), tokens, reserves,
                                                         strict=True):
        answer = feed_answer(Decimal(price), t.feed_decimals)
        tx.send(f"price {t.symbol}", deployer, t.feed,
                _call_data(_SEL_SET_PRICE, ["int256"], [answer]), 150_000)
        target = Fraction(answer * 10**USDC_DECIMALS, 10**t.feed_decimals * 10**t.decimals)
        usdc_in, amount = _arbitrage_input(rt, ru, target)
        out = 0
        if amount:
            out = _amount_out(amount, ru, rt) if usdc_in else _amount_out(amount, rt, ru)
        # A pool already at the price (within one unit) needs no trade: a swap with zero
        # output would revert in the pair.
        if out:
            if usdc_in:
                minted_token, outs = usdc_addr, ((out, 0) if token_is_0 else (0, out))
                rt, ru = rt - out, ru + amount
            else:
                minted_token, outs = t.address, ((0, out) if token_is_0 else (out, 0))
                rt, ru = rt + amount, ru - out
            tx.send(f"arb {t.symbol} in", deployer, minted_token,
                    _call_data(_SEL_MINT, ["address", "uint256"], [t.pair, amount]), 100_000)
            tx.send(f"arb {t.symbol} swap", deployer, t.pair,
                    _call_data(_SEL_SWAP, ["uint256", "uint256", "address", "bytes"],
                               [outs[0], outs[1], deployer, b""]), 200_000)
        spots[symbol] = (Decimal(ru).scaleb(-USDC_DECIMALS)
                         / Decimal(rt).scaleb(-t.decimals)).normalize()


_SEL_SET_PRICE = Web3.keccak(text="setPrice(int256)")[:4]
_SEL_MINT = Web3.keccak(text="mint(address,uint256)")[:4]
_SEL_SWAP = Web3.keccak(text="swap(uint256,uint256,address,bytes)")[:4]
_SEL_RESERVES = Web3.keccak(text="getReserves()")[:4]
_SEL_AGGREGATE3 = Web3.keccak(text="aggregate3((address,bool,bytes)[])")[:4]


def _call_data(selector: bytes, types: list[str], args: list[Any]) -> str:
    return "0x" + (selector + abi_encode(types, args)).hex()


def _all_reserves(w3: Web3, deployment: Deployment,
                  tokens: Sequence[TokenInfo]) -> list[tuple[int, int, bool]]:
    """Every pool's reserves in one ``eth_call`` through Multicall3."""
    from eth_abi import decode as abi_decode

    calls = [(t.pair, False, _SEL_RESERVES) for t in tokens]
    data = _call_data(_SEL_AGGREGATE3, ["(address,bool,bytes)[]"], [calls])
    raw = w3.eth.call({"to": deployment.multicall, "data": data})  # type: ignore[typeddict-item]
    (results,) = abi_decode(["(bool,bytes)[]"], bytes(raw))
    out = []
    for t, (ok, ret) in zip(tokens, results, strict=True):
        if not ok:
            raise DevnetError(f"Reading the {t.symbol} pool failed.")
        r0, r1, _ = abi_decode(["uint112", "uint112", "uint32"], ret)
        token_is_0 = int(t.address, 16) < int(deployment.usdc, 16)
        out.append((r0, r1, True) if token_is_0 else (r1, r0, False))
    return out


def set_price(
    w3: Web3,
    deployment: Deployment,
    symbol: str,
    new_price_usd: Decimal,
    *,
    refresh_nav: bool = False,
) -> Decimal:
    """:func:`set_prices` for one constituent; returns the pool's new spot price."""
    return set_prices(w3, deployment, {symbol: new_price_usd}, refresh_nav=refresh_nav)[symbol]


def refresh(w3: Web3, deployment: Deployment) -> None:
    """The keeper's job: the operator refreshes the vault's NAV cache from the feeds."""
    vault_c = contract(w3, deployment, "IndexVault")
    tx = TxBatch(w3)
    n = len(deployment.tokens)
    tx.send(
        "updateNav",
        deployment.roles["operator"],
        vault_c.address,
        vault_c.encode_abi("updateNav", []),
        300_000 + 60_000 * n,
    )
    tx.wait()


#: Requests one keeper strike settles at most (a strike of 100 constituents + 50 requests
#: stays far below the block gas limit).
STRIKE_BATCH = 50


def strike(w3: Web3, deployment: Deployment, *, not_before: int = 0,
           max_requests: int = STRIKE_BATCH, timeout_s: float = 30.0) -> Any:
    """The devnet keeper's NAV strike: refresh every price and settle the eligible requests.

    ``not_before`` is a chain time the strike must not precede (a request's cut-off): the
    devnet follows the wall clock, so this waits until the latest block is that old, at
    most ``timeout_s``. Returns the strike's receipt."""
    vault_c = contract(w3, deployment, "IndexVault")
    end = time.monotonic() + timeout_s
    while not_before and time.monotonic() < end:
        if int(w3.eth.get_block("latest")["timestamp"]) >= not_before or \
                time.time() >= not_before + 1:
            break
        time.sleep(0.1)
    tx = TxBatch(w3)
    n = len(deployment.tokens)
    tx.send("strike", deployment.roles["operator"], vault_c.address,
            vault_c.encode_abi("strike", [max_requests]),
            600_000 + 60_000 * n + 150_000 * max_requests)
    return tx.wait()[0]

"""One exit code per error class, across the whole ``wallet_app`` package, and the README's
table of codes made from the classes themselves."""

from __future__ import annotations

from pathlib import Path

from wallet_app import exit_codes
from wallet_app.chain.errors import BroadcastUncertain, RateLimited, RpcUnavailable
from wallet_app.errors import WalletError
from wallet_app.keys.errors import InvalidPassword

README = Path(__file__).resolve().parents[1] / "README.md"


def _table() -> list[exit_codes.CodeRow]:
    return exit_codes.rows()


def test_the_walk_finds_the_classes_of_every_package() -> None:
    """The walk imports every module: classes from each sub-package are in the table (a
    walk that found only the base class would make the uniqueness check pass vacuously),
    and only the package's own (a test's helper subclass is not the app's)."""
    names = {r.name for r in _table()}
    assert {"ConfigError", "InvalidPassword", "BroadcastUncertain", "RpcCallError",
            "JournalError", "IndexDataError", "SnapshotError", "SigningRefused",
            "TradeInProgress", "UnresolvedTransactions", "OperatorError",
            "GuiMissingError", "NoWallet"} <= names
    assert len(exit_codes.error_classes()) >= 70
    assert all(c.__module__.startswith("wallet_app") for c in exit_codes.error_classes())


def test_every_error_class_has_its_own_code() -> None:
    clash = exit_codes.collisions(_table())
    assert clash == {}, "exit codes shared: " + "; ".join(
        f"{code}: {', '.join(names)}" for code, names in sorted(clash.items()))


def test_every_class_declares_its_code_and_says_what_it_means() -> None:
    """A subclass that inherits its parent's code (the old BroadcastUncertain took
    RpcUnavailable's) or has no docstring of its own for the table is refused."""
    for cls in exit_codes.error_classes():
        where = f"{cls.__module__}.{cls.__qualname__}"
        assert "exit_code" in cls.__dict__, f"{where} inherits its exit code"
        assert isinstance(cls.exit_code, int) and 1 <= cls.exit_code <= 255, where
        assert exit_codes.own_doc(cls), f"{where} has no docstring of its own"


def test_collisions_are_detected() -> None:
    """The check itself can fail: two classes with one code are reported, with both names."""

    class Twin(WalletError):
        """A throw-away class that takes the wrong password's code."""

        exit_code = InvalidPassword.exit_code

    try:
        clash = exit_codes.collisions(exit_codes.rows(classes=exit_codes.error_classes(
            package=None)))
        assert InvalidPassword.exit_code in clash
        assert any(n.endswith("Twin") for n in clash[InvalidPassword.exit_code])
    finally:
        del Twin
        import gc

        gc.collect()  # drop the class so later walks do not see it


def test_retryable_and_uncertain_broadcast_never_share() -> None:
    """A script that retries on a wrong password must never re-run a trade whose broadcast
    is uncertain; nor treat a rate limit as "node down"."""
    codes = {InvalidPassword.exit_code, BroadcastUncertain.exit_code, RpcUnavailable.exit_code,
             RateLimited.exit_code}
    assert len(codes) == 4
    assert InvalidPassword.exit_code == 11  # documented for scripts since the first release


def test_no_class_takes_a_reserved_code() -> None:
    for cls in exit_codes.error_classes():
        assert cls.exit_code not in exit_codes.RESERVED, cls


def test_readme_table_is_generated_from_the_classes() -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index(exit_codes.README_START)
    end = text.index(exit_codes.README_END) + len(exit_codes.README_END)
    assert text[start:end] == exit_codes.readme_block(_table()), (
        "README's exit-code table is stale: run scripts/exit_codes.py --write-readme")

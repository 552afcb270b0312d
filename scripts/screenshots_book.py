"""Screenshots of the receive, contacts, accounts and watch-only screens (light and dark).

Called by ``scripts/screenshots.py`` on its devnet run (the wallet it created, with a
real buy and sell behind it), and runnable alone for a quick look at only these screens:
``scripts/screenshots.sh --source book`` starts a throw-away devnet, creates a wallet
through the facade and renders ``screenshots/7x_*.png``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CONTACTS = (("Alice", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "rent"),
            ("Exchange deposit", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", "Kraken"),
            ("Bob", "0x" + "ab" * 20, ""))


def prepare(svc: Any, password: str, seed_address: str) -> None:
    """What the pictures show: contacts, a second named account, a watched address."""
    have = {c.label for c in svc.contacts()}
    for label, address, note in CONTACTS:
        if label not in have:
            svc.add_contact(label, address, note)
    if len(svc.list_accounts()) < 2:
        svc.add_account(password, "Savings")
    if not svc.watched_wallets():
        svc.add_watch("Seed fund", seed_address)


def shoot_book(shots: Any, win: Any, ctl: Any, svc: Any, theme: str,
               wait_for: Any, settle: Any, tmp: Path) -> None:
    """Receive (address and link QR), contacts (list, bad import), accounts, watch-only."""
    sfx = "_dark" if theme == "dark" else ""
    base = 70 if theme == "light" else 80
    win.navigate("my")
    win.dismiss_notice()
    settle(200)

    dlg = ctl.book.open_receive()
    wait_for(lambda: dlg.panel.info is not None, what="receive info")
    shots.save(f"{base}_receive{sfx}", win, dlg)
    dlg.panel.show_link.click()
    dlg.panel.amount.setText("250")
    dlg.panel.amount.editingFinished.emit()
    wait_for(lambda: "uint256=250000000" in dlg.panel.link.toPlainText(), what="amount link")
    shots.save(f"{base + 1}_receive_link{sfx}", win, dlg)
    dlg.accept()

    cdlg = ctl.book.open_contacts()
    wait_for(lambda: len(cdlg.contacts) >= 3, what="contacts")
    cdlg.table.selectRow(0)
    shots.save(f"{base + 2}_contacts{sfx}", win, cdlg)
    bad = tmp / "bad-contacts.csv"
    bad.write_text("label,address,note\nCarol,0x" + "cd" * 20 + ",ok\n"
                   "Dave,0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed,typo\nErin,not-an-address,\n")
    cdlg.import_file(bad)
    wait_for(lambda: "nothing was imported" in cdlg.banner.message.text(), what="bad csv")
    shots.save(f"{base + 3}_contacts_bad_import{sfx}", win, cdlg)
    cdlg.accept()

    adlg = ctl.book.open_accounts()
    wait_for(lambda: len(adlg.accounts) >= 2 and adlg.watched, what="accounts")
    adlg.account_table.selectRow(1)
    shots.save(f"{base + 4}_accounts{sfx}", win, adlg)
    adlg.accept()

    # The second account is active: the header says so on every screen.
    svc.switch_account("Savings")
    ctl._wallet_selected(None)
    wait_for(lambda: "Savings" in win.account_header.title.text(), what="switch")
    win.navigate("transactions")
    settle(300)
    shots.save(f"{base + 5}_second_account_header{sfx}", win)

    # Watch-only: the seed depositor's holdings from the vault's events, signing off.
    svc.switch_watch("Seed fund")
    ctl._wallet_selected(None)
    win.navigate("my")
    wait_for(lambda: win.my_page.position is not None
             and win.my_page.position.address == ctl.address and win.my_page.trades,
             what="watched position")
    settle(300)
    shots.save(f"{base + 6}_watch_only{sfx}", win)
    win.navigate("index")
    settle(200)
    shots.save(f"{base + 7}_watch_only_index{sfx}", win)

    # Back to the first own account for what follows.
    svc.switch_account("1")
    ctl._wallet_selected(None)
    wait_for(lambda: "Account 1" in win.account_header.title.text(), what="switch back")
    win.navigate("my")
    settle(200)

    # The onboarding's "wallet ready" page with the QR code and the payment link.
    from ui.dialogs.onboarding import OnboardingDialog

    ob = OnboardingDialog(svc, win, first_run=False)
    ob.show()
    ob._finish(svc.active_wallet(), "The wallet was created.")
    wait_for(ob.receive_panel.isVisible, what="ready page receive")
    shots.save(f"{base + 8}_onboarding_ready_receive{sfx}", win, ob)
    ob.reject()


def run_book(shots: Any, wait_for: Any, settle: Any) -> None:  # pragma: no cover
    """A throw-away devnet and wallet; only this module's screens, light and dark."""
    import secrets
    import tempfile

    from ui.app import apply_theme
    from ui.controller import Controller
    from ui.main_window import MainWindow
    from wallet_app.devnet import process
    from wallet_app.devnet.deploy import Deployment
    from wallet_app.devnet.embedded import deployment_path, ensure_devnet
    from wallet_app.facade import WalletService

    ensure_devnet(port=process.free_port(), progress=print)
    svc = WalletService()
    try:
        svc.connect()
        password = "shots " + secrets.token_urlsafe(12)
        info, phrase = svc.create_wallet("Main", password, words=12)
        phrase.wipe()
        svc.faucet()
        seed = Deployment.load(deployment_path(svc.paths)).roles["deployer"]
        prepare(svc, password, seed)
        svc.switch_account("1")
        for theme in ("light", "dark"):
            apply_theme(theme)
            win = MainWindow()
            ctl = Controller(svc, win, status_interval_ms=2_000, idle_timeout_ms=10**8,
                             auto_onboard=False)
            win.resize(1280, 800)
            win.show()
            ctl.start()
            wait_for(lambda c=ctl: c.status is not None and c.status.connected,
                     what="connect")
            wait_for(lambda c=ctl: c.position is not None, what="position")
            with tempfile.TemporaryDirectory() as tmp:
                shoot_book(shots, win, ctl, svc, theme, wait_for, settle, Path(tmp))
            ctl.shutdown()
            win.close()
        apply_theme("light")
    finally:
        svc.close()
        process.down()

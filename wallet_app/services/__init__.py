"""The core's services, one per capability, behind :class:`wallet_app.facade.WalletService`."""

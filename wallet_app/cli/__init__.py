"""The `index-wallet` command line: one module per command group."""

"""The embedded devnet: an Anvil node the app starts, deploys to and seeds."""

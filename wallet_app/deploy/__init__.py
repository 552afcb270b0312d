"""Deploy the index (vault, lens, timelock) to any EVM chain from a config file.

``config`` reads and checks the file, ``plan`` turns it into the exact list of transactions
(addresses known in advance from the deployer's nonces), ``runner`` signs them locally, one
by one, journaled before each broadcast so that a crash resumes without deploying anything
twice, and writes the deployment record the wallet pins. ``bytecode`` holds the creation
code helpers the devnet's market deployer shares.
"""

"""Reports built from the wallet's verified history (taxes)."""

"""Dialogs of the app: onboarding, buy, sell, unlock, strategy."""

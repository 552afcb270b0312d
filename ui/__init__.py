"""The PySide6 desktop GUI. It reaches the core only through the facade and the plain
dataclasses of ``wallet_app.models``; nothing here talks to a node or signs."""

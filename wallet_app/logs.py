"""Structured logging to a rotating file in the log dir.

Records are one JSON object per line so that they can be grepped and parsed. A filter
redacts anything that looks like a private key or a mnemonic before it is written, as a
last line of defence: the code never logs secrets on purpose.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import re
from datetime import UTC, datetime

from .paths import AppPaths, app_paths

_HEX_KEY = re.compile(r"(0x)?[0-9a-fA-F]{64}")
# Twelve or more lowercase words in a row: the shape of a BIP-39 mnemonic.
_MNEMONIC = re.compile(r"\b(?:[a-z]{3,8}\s+){11,}[a-z]{3,8}\b")


def redact(text: str) -> str:
    """Replace key-shaped and mnemonic-shaped substrings with a marker."""
    text = _HEX_KEY.sub("[redacted-hex]", text)
    return _MNEMONIC.sub("[redacted-words]", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["exc"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False)


_configured = False


def setup_logging(paths: AppPaths | None = None, level: int = logging.INFO) -> None:
    """Send the ``wallet_app`` and ``ui`` loggers to ``app.log`` (5 x 1 MB rotation)."""
    global _configured
    if _configured:
        return
    paths = (paths or app_paths()).ensure()
    handler = logging.handlers.RotatingFileHandler(
        paths.log_dir / "app.log", maxBytes=1_000_000, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(JsonFormatter())
    for name in ("wallet_app", "ui"):
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.addHandler(handler)
    _configured = True

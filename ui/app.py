"""Application set-up and the ``index-wallet-gui`` entry point (``index-wallet gui``).

Kept apart from the window so that tests, screenshots and the benchmark build the very
same QApplication (style, fonts, style sheets, thread pool) as a user's launch does, and
so that a machine without a display gets a sentence instead of Qt's abort.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QPointF, Qt, QThreadPool, QTimer
from PySide6.QtGui import QColor, QFont, QIcon, QImage, QPainter, QPen
from PySide6.QtWidgets import QApplication, QWidget

from ui.theme import ASSETS_DIR, Palette, load_stylesheet, theme_manager
from wallet_app.resources import app_icon_path

log = logging.getLogger(__name__)

APP_NAME = "TM Global 100 Wallet"
#: Basename of the .desktop file (``make bundle``): lets Wayland compositors match the
#: window to its launcher entry and icon.
DESKTOP_ID = "global100-wallet"
SCREENS_QSS = ASSETS_DIR / "screens.qss"
_TOKEN = re.compile(r"@([a-z_]+)")
_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)

#: Pool threads for core calls: a buy waiting for its receipt must not hold up a status
#: refresh or a quote, whatever the machine's core count is.
MIN_WORKER_THREADS = 4
#: How soon (seconds) a thread waiting for Python's GIL gets it from a busy one. Painting
#: a screen makes hundreds of Qt calls, each of which releases the GIL and takes it back;
#: with CPython's default of 5 ms, a worker decoding a lens snapshot makes each of those
#: wait, and a 2 ms paint took 80 ms (measured; 7 ms at 0.2 ms). At 0.2 ms the GUI
#: thread stays smooth and the workers lose little: they only switch more often while
#: another thread is waiting for the GIL.
GIL_SWITCH_INTERVAL_S = 0.0002


def screens_stylesheet(p: Palette, path: Path = SCREENS_QSS) -> str:
    """The screens' style sheet with every ``@field`` replaced by the palette's colour.

    An unknown token raises: a typo would otherwise silently drop a whole rule.
    """
    text = _COMMENT.sub("", path.read_text(encoding="utf-8"))

    def colour(m: re.Match[str]) -> str:
        name = m.group(1)
        if name.startswith("icon_"):
            return arrow_icon(name.removeprefix("icon_"), p.text_muted).as_posix()
        if not hasattr(p, name) or name == "name":
            raise ValueError(f"{path.name}: @{name} is not a palette colour")
        return str(getattr(p, name))

    return _TOKEN.sub(colour, text)


def arrow_icon(direction: str, colour: str) -> Path:
    """A small chevron PNG (drawn once per colour, cached on disk) for combo and spin boxes.

    Style sheets can only show an arrow from an image file; the theme ships none, so the
    arrows are painted here in the palette's muted text colour instead of being bundled
    as files that could drift from the palette.
    """
    if direction not in ("up", "down"):
        raise ValueError(f"unknown arrow {direction!r}")
    folder = Path(tempfile.gettempdir()) / f"g100-ui-icons-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    out = folder / f"chevron-{direction}-{colour.lstrip('#').lower()}.png"
    if out.is_file():
        return out
    img = QImage(20, 12, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.transparent)
    painter = QPainter(img)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    pen = QPen(QColor(colour), 2.4)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    ys = (2.5, 9.5) if direction == "down" else (9.5, 2.5)
    painter.drawPolyline([QPointF(3, ys[0]), QPointF(10, ys[1]), QPointF(17, ys[0])])
    painter.end()
    tmp = out.with_suffix(".tmp.png")
    img.save(str(tmp), "PNG")
    os.replace(tmp, out)
    return out


def full_stylesheet(p: Palette) -> str:
    """The theme's widget style sheet followed by the screens' rules (for reference and
    tests; the app sets the two at different levels, see :func:`style_window`)."""
    return load_stylesheet(p.name) + "\n" + screens_stylesheet(p)


class _WindowStyler(QObject):
    """Keeps one top-level window's screens style sheet in step with the theme.

    The theme's own sheet is the *application's* (ThemeManager sets it); the screens'
    rules go on the main window, where Qt gives them precedence over the application's
    and passes them on to every child, dialogs parented to the window included. Keeping
    them off the application leaves ThemeManager the sole owner of the app-wide sheet.
    """

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        theme_manager().changed.connect(self.restyle)
        self.restyle(theme_manager().palette)

    def restyle(self, p: Palette) -> None:
        self._window.setStyleSheet(screens_stylesheet(p))


def style_window(window: QWidget) -> None:
    """Give ``window`` (and its children and dialogs) the screens' rules, now and on every
    theme switch."""
    _WindowStyler(window)


def display_problem(env: dict[str, str] | None = None, platform: str = sys.platform
                    ) -> str | None:
    """Why Qt cannot open a window here, or None when it can (or when the user chose a
    platform plugin themselves, e.g. ``QT_QPA_PLATFORM=offscreen``)."""
    env = dict(os.environ) if env is None else env
    if env.get("QT_QPA_PLATFORM"):
        return None
    if not platform.startswith("linux"):
        return None
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return ("No display found: DISPLAY and WAYLAND_DISPLAY are unset, so the wallet window "
            "cannot open. Run it from a desktop session, or wrap it in a virtual display "
            "(`xvfb-run index-wallet gui`), or set QT_QPA_PLATFORM=offscreen to check that "
            "it starts without showing anything.")


def create_app(argv: Sequence[str] | None = None, theme: str = "light") -> QApplication:
    """The QApplication with the app's look; reuses one that already exists (tests)."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("TM Global 100")
    app.setApplicationDisplayName(APP_NAME)
    app.setDesktopFileName(DESKTOP_ID)
    icon = app_icon_path()
    if icon.is_file():  # a broken install still opens, without its icon
        app.setWindowIcon(QIcon(str(icon)))
    font = QFont(app.font())
    if font.pixelSize() <= 0 and font.pointSizeF() < 9:
        font.setPointSizeF(10)
        app.setFont(font)
    pool = QThreadPool.globalInstance()
    pool.setMaxThreadCount(max(MIN_WORKER_THREADS, pool.maxThreadCount()))
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    apply_theme(theme)
    return app


def apply_theme(name: str) -> Palette:
    """Switch the whole app to ``name`` at runtime: widgets, painted widgets, screens."""
    return theme_manager().apply(name)


def build_service(args: argparse.Namespace) -> Any:
    """The real WalletService, or the sample one with ``--sample`` (no network)."""
    if args.sample:
        from ui.pages.samples import SampleService
        return SampleService(has_wallet=not args.no_wallet)
    from wallet_app.facade import WalletService
    return WalletService()


def main(argv: Sequence[str] | None = None, service: Any = None) -> int:
    """``index-wallet-gui``: open the wallet window; returns the process exit code.

    ``service`` lets a caller (tests, the benchmark) pass a WalletService it built.
    ``--demo`` is what ``index-wallet demo`` asks for once it has the devnet running:
    connect to it and let the simulated market move one day every ``--tick`` seconds.
    """
    from wallet_app.hardening import harden_process

    # No core dumps while a key may be in memory; secrets out of the environment. Started
    # by the CLI (`index-wallet gui`/`demo`), the same process keeps what the CLI took.
    harden_process()
    parser = argparse.ArgumentParser(prog="index-wallet-gui", description=APP_NAME)
    parser.add_argument("--sample", action="store_true",
                        help="show SAMPLE DATA only (no network, no keys) - for a look around")
    parser.add_argument("--no-wallet", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--theme", choices=("light", "dark"), default=None)
    parser.add_argument("--demo", action="store_true",
                        help="on the running devnet, with the simulated market moving")
    parser.add_argument("--tick", type=float, default=None,
                        help="with --demo: wall-clock seconds per market day (default: the "
                             "devnet's, 30; 0: paused, the NAV keeper alone)")
    parser.add_argument("--steps", type=int, default=None,
                        help="with --demo: price steps per market day (default 6)")
    args = parser.parse_args(list(argv) if argv is not None else sys.argv[1:])
    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2

    from wallet_app.errors import WalletError
    from wallet_app.logs import setup_logging

    try:
        setup_logging()  # a no-op when the CLI (index-wallet gui/demo) has set it up
    except OSError as exc:
        print(f"warning: logging disabled ({exc})", file=sys.stderr)
    try:
        service = service if service is not None else build_service(args)
        if args.demo and not args.sample:
            service.connect()
            service.start_market(None if args.tick is None else max(0.0, args.tick),
                                 steps=None if args.steps is None else max(1, args.steps))
    except WalletError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 1)
    theme = args.theme or getattr(getattr(service, "settings", None), "theme", "light")
    app = create_app(sys.argv[:1], theme if theme in ("light", "dark") else "light")

    from ui.controller import Controller
    from ui.main_window import MainWindow

    window = MainWindow()
    controller = Controller(service, window)
    window.resize(1280, 800)
    window.show()
    # Once the first frame is up: a start-up milestone in app.log (the bundle test waits
    # for it; it also dates a slow start when someone reports one).
    QTimer.singleShot(0, lambda: log.info("main window shown: %s", window.windowTitle()))
    controller.start()
    code = app.exec()
    controller.shutdown()
    close = getattr(service, "close", None)
    if callable(close):
        close()
    return int(code)


if __name__ == "__main__":
    raise SystemExit(main())

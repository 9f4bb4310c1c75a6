"""Save a PNG of the ColorApp window after it has colorized one photo.

Usage, from the repository root:

    xvfb-run -a .venv/bin/python tools/screenshot.py PHOTO OUT.png
    .venv/bin/python tools/screenshot.py PHOTO OUT.png    # offscreen without a display

The window uses a temporary settings file, so the user's settings are untouched.
The exit code is 0 on success and 1 if opening or colorizing fails or times out.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

# Run as a script, this file's folder is on sys.path instead of the repository root.
REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

logger = logging.getLogger("screenshot")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Colorize a photo in the ColorApp window and save a screenshot.")
    parser.add_argument("photo", type=Path, help="photo to open and colorize")
    parser.add_argument("output", type=Path, help="PNG file to write")
    parser.add_argument("--model", help="model key to use (default: the catalogue's default model)")
    parser.add_argument("--size", default="1280x800", help="window size in pixels, WIDTHxHEIGHT (default: 1280x800)")
    parser.add_argument("--divider", type=float, default=0.5, help="divider position, 0 to 1 (default: 0.5)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for each step (default: 300)")
    return parser.parse_args(argv)


def _parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"invalid --size {text!r}; expected WIDTHxHEIGHT, for example 1280x800") from None
    return width, height


def _wait_for(success_signal, failure_signal, timeout_s: float) -> tuple[bool, object]:
    """Run the event loop until one of the signals fires or the timeout passes.

    Return (True, value) on success, (False, message) on failure or timeout.
    """
    from PySide6.QtCore import QEventLoop, QTimer

    outcome: list[tuple[bool, object]] = []
    loop = QEventLoop()

    def succeed(value: object) -> None:
        outcome.append((True, value))
        loop.quit()

    def fail(message: str) -> None:
        outcome.append((False, message))
        loop.quit()

    success_signal.connect(succeed)
    failure_signal.connect(fail)
    QTimer.singleShot(round(timeout_s * 1000), loop.quit)
    loop.exec()
    success_signal.disconnect(succeed)
    failure_signal.disconnect(fail)
    return outcome[0] if outcome else (False, f"timed out after {timeout_s:g} s")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    width, height = _parse_size(args.size)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if "QT_QPA_PLATFORM" not in os.environ and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from colorapp import APPLICATION_NAME, ORGANIZATION_NAME
    from colorapp.main_window import MainWindow
    from colorapp.settings import Settings

    app = QApplication([sys.argv[0]])
    app.setOrganizationName(ORGANIZATION_NAME)
    app.setApplicationName(APPLICATION_NAME)

    with tempfile.TemporaryDirectory(prefix="colorapp-screenshot-") as temporary:
        settings = Settings(QSettings(str(Path(temporary) / "settings.ini"), QSettings.Format.IniFormat))
        window = MainWindow(settings=settings)
        try:
            return _capture(app, window, args, width, height)
        finally:
            window.close()


def _capture(app, window, args: argparse.Namespace, width: int, height: int) -> int:
    window.resize(width, height)
    window.show()
    tab = window.colorize_tab
    if args.model and not tab.panel.model_picker.select_key(args.model):
        keys = [entry.key for entry in tab.panel.model_picker.entries()]
        logger.error("Model %r not found; available: %s", args.model, ", ".join(keys) or "none")
        return 1

    window.open_paths([args.photo])
    if not window.worker.is_busy():
        # The path was rejected before loading; the status bar shows why.
        logger.error("%s", window.statusBar().currentMessage())
        return 1
    opened, message = _wait_for(tab.photo_opened, tab.open_failed, args.timeout)
    if not opened:
        logger.error("Opening %s failed: %s", args.photo, message)
        return 1

    if not tab.colorize():
        logger.error("Colorizing did not start: %s", window.statusBar().currentMessage())
        return 1
    colorized, message = _wait_for(tab.colorize_finished, tab.colorize_failed, args.timeout)
    if not colorized:
        logger.error("Colorizing %s failed: %s", args.photo, message)
        return 1

    tab.view.set_divider(args.divider)
    app.processEvents()
    if window.size().width() != width or window.size().height() != height:
        logger.warning(
            "The window is %dx%d, not %dx%d; the screen may be smaller",
            window.width(), window.height(), width, height,
        )
    if not window.grab().save(str(args.output), "PNG"):
        logger.error("Writing %s failed; check that its folder exists and is writable", args.output)
        return 1
    logger.info("Saved %s", args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

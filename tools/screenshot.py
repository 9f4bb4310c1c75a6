"""Save PNGs of the ColorApp window after it has colorized photos, and of its dialogs.

Usage, from the repository root:

    xvfb-run -a .venv/bin/python tools/screenshot.py PHOTO OUT.png
    .venv/bin/python tools/screenshot.py PHOTO OUT.png    # offscreen without a display
    xvfb-run -a .venv/bin/python tools/screenshot.py PHOTO docs/screenshot.png \
        --queue MORE.jpg ... --compare-out docs/compare-grid.png --export-out docs/export-dialog.png

PHOTO is shown in the main window; ``--queue`` photos join the queue and are
colorized too. The window uses a temporary settings file and an empty user model
folder (unless ``--model-dir`` names one), so the user's settings and models are
untouched. The exit code is 0 on success and 1 if a step fails or times out.
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
    parser.add_argument("--queue", nargs="*", type=Path, default=[], help="more photos to queue and colorize")
    parser.add_argument("--model", help="model key to use (default: the catalogue's default model)")
    parser.add_argument("--model-dir", type=Path, help="user model folder to list beside the shipped models")
    parser.add_argument("--compare-out", type=Path, help="also save the compare grid of PHOTO as this PNG")
    parser.add_argument("--export-out", type=Path, help="also save the Export All dialog as this PNG")
    parser.add_argument(
        "--export-folder", type=Path, help="folder shown in the export dialog (default: PHOTO's folder)"
    )
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

    ``failure_signal`` may be None when only success or the timeout ends the wait.

    Return (True, value) on success, (False, message) on failure or timeout.
    """
    from PySide6.QtCore import QEventLoop, QTimer

    outcome: list[tuple[bool, object]] = []
    loop = QEventLoop()

    def succeed(*values: object) -> None:
        outcome.append((True, values[0] if values else None))
        loop.quit()

    def fail(message: str) -> None:
        outcome.append((False, message))
        loop.quit()

    success_signal.connect(succeed)
    if failure_signal is not None:
        failure_signal.connect(fail)
    QTimer.singleShot(round(timeout_s * 1000), loop.quit)
    loop.exec()
    success_signal.disconnect(succeed)
    if failure_signal is not None:
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
    from engine.catalog import ModelCatalog

    app = QApplication([sys.argv[0]])
    app.setOrganizationName(ORGANIZATION_NAME)
    app.setApplicationName(APPLICATION_NAME)

    with tempfile.TemporaryDirectory(prefix="colorapp-screenshot-") as temporary:
        settings = Settings(QSettings(str(Path(temporary) / "settings.ini"), QSettings.Format.IniFormat))
        model_dir = args.model_dir or Path(temporary) / "user-models"
        window = MainWindow(catalog=ModelCatalog(model_dir), settings=settings)
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

    window.open_paths([args.photo, *args.queue])
    opened, message = _wait_for(tab.photo_opened, tab.open_failed, args.timeout)
    if not opened:
        logger.error("Opening %s failed: %s", args.photo, message)
        return 1
    if tab.current_item().path != args.photo:
        logger.error("%s was not queued: %s", args.photo, window.statusBar().currentMessage())
        return 1

    if not tab.colorize_all():
        logger.error("Colorizing did not start: %s", window.statusBar().currentMessage())
        return 1
    finished, progress = _wait_for(tab.run_finished, None, args.timeout)
    if not finished or progress.failed:
        logger.error("Colorizing failed: %s", progress if not finished else progress.failed)
        return 1

    tab.view.set_divider(args.divider)
    tab.view.setFocus()
    app.processEvents()
    if window.size().width() != width or window.size().height() != height:
        logger.warning(
            "The window is %dx%d, not %dx%d; the screen may be smaller",
            window.width(), window.height(), width, height,
        )
    if not _save(window, args.output):
        return 1
    if args.compare_out and _capture_compare_grid(app, tab, args) != 0:
        return 1
    if args.export_out and _capture_export_dialog(app, tab, args) != 0:
        return 1
    return 0


def _save(widget, path: Path) -> bool:
    if not widget.grab().save(str(path), "PNG"):
        logger.error("Writing %s failed; check that its folder exists and is writable", path)
        return False
    logger.info("Saved %s", path)
    return True


def _capture_compare_grid(app, tab, args: argparse.Namespace) -> int:
    dialog = tab.compare_models()
    if dialog is None:
        logger.error("The compare grid did not open: %s", tab.window().statusBar().currentMessage())
        return 1
    finished, _ = _wait_for(tab.compare_finished, None, args.timeout)
    if not finished:
        logger.error("The compare grid did not finish")
        return 1
    # Two panes sit side by side, so a lower window wastes less space around them.
    dialog.resize(1200, 520 if len(dialog.panes()) <= 2 else 760)
    app.processEvents()
    saved = _save(dialog, args.compare_out)
    dialog.close()
    return 0 if saved else 1


def _capture_export_dialog(app, tab, args: argparse.Namespace) -> int:
    dialog = tab.export_all_with_dialog()
    if dialog is None:
        logger.error("The export dialog did not open")
        return 1
    dialog.folder_edit.setText(str(args.export_folder or args.photo.parent))
    dialog.set_format("tiff", 16)
    dialog.adjustSize()
    app.processEvents()
    saved = _save(dialog, args.export_out)
    dialog.reject()
    return 0 if saved else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Entry point of the ``colorapp`` command: logging, QApplication and the main window."""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from colorapp import APPLICATION_NAME, ORGANIZATION_NAME
from engine import paths

logger = logging.getLogger(__name__)

LOG_FILE_NAME = "colorapp.log"
_LOG_FILE_MAX_BYTES = 2_000_000
_LOG_FILE_BACKUPS = 3
_LOG_FORMAT = "%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s"

_QT_LOG_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="colorapp", description="Colorize black-and-white photos on the desktop."
    )
    parser.add_argument("photos", nargs="*", type=Path, help="photos to open at start")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log debug messages to the log file and stderr"
    )
    return parser.parse_args(argv)


def configure_logging(log_folder: Path, verbose: bool = False) -> Path | None:
    """Send log records to a rotating file in ``log_folder`` and to stderr.

    The file gets INFO and above, stderr WARNING and above; ``verbose`` lowers both
    to DEBUG. Return the log file path, or None if the file cannot be opened (then
    only stderr is used).
    """
    formatter = logging.Formatter(_LOG_FORMAT)
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)

    stderr_handler = logging.StreamHandler(sys.stderr)
    stderr_handler.setLevel(logging.DEBUG if verbose else logging.WARNING)
    stderr_handler.setFormatter(formatter)
    root.addHandler(stderr_handler)

    log_file = log_folder / LOG_FILE_NAME
    try:
        log_folder.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=_LOG_FILE_MAX_BYTES, backupCount=_LOG_FILE_BACKUPS, encoding="utf-8"
        )
    except OSError as error:
        logger.warning("Cannot write the log file %s (%s); logging to stderr only", log_file, error)
        return None
    file_handler.setFormatter(formatter)
    root.addHandler(file_handler)
    return log_file


def _log_qt_message(message_type: QtMsgType, context, message: str) -> None:
    logging.getLogger("qt").log(_QT_LOG_LEVELS.get(message_type, logging.WARNING), "%s", message)


def _log_uncaught_exception(exc_type, exc_value, exc_traceback) -> None:
    # PySide passes exceptions raised in slots here instead of stopping the
    # application, so this is where they reach the log file.
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc_value, exc_traceback)
        return
    logger.critical("Uncaught exception", exc_info=(exc_type, exc_value, exc_traceback))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the application; ``argv`` excludes the program name. Return the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    # QApplication removes the options it handles itself (such as -platform or
    # -style), so the rest are parsed after it exists.
    app = QApplication([sys.argv[0], *arguments])
    app.setOrganizationName(ORGANIZATION_NAME)
    app.setApplicationName(APPLICATION_NAME)
    app.setDesktopFileName("colorapp")
    icon = paths.RESOURCES_DIR / "icons" / "colorapp-256.png"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    args = parse_args(app.arguments()[1:])

    log_file = configure_logging(paths.log_dir(), verbose=args.verbose)
    qInstallMessageHandler(_log_qt_message)
    sys.excepthook = _log_uncaught_exception
    logger.info("ColorApp starting; log file %s", log_file)

    # Imported here, not at the top: the window imports the engine and torch, which
    # takes seconds that --help and invalid arguments should not wait for.
    from colorapp.main_window import MainWindow

    window = MainWindow()
    window.show()
    if args.photos:
        window.open_paths(args.photos)

    # Ctrl+C in the terminal closes the window like File > Quit. Python handles a
    # signal only when it runs Python code, and Qt's event loop runs in C++, so a
    # timer returns to Python four times a second.
    signal.signal(signal.SIGINT, lambda _signum, _frame: window.close())
    interrupt_timer = QTimer()
    interrupt_timer.timeout.connect(lambda: None)
    interrupt_timer.start(250)

    exit_code = app.exec()
    logger.info("ColorApp stopped with exit code %s", exit_code)
    return exit_code

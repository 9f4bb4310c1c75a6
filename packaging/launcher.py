"""Entry script of both executables in the frozen app dist/ColorApp/.

PyInstaller builds ``ColorApp`` (the window) and ``colorapp-engine`` (the command line)
from this one script, so both share one analysis and one folder of libraries. The
script picks the entry point by the file name of the running executable.
"""

import multiprocessing
import sys
from pathlib import Path

ENGINE_EXECUTABLE = "colorapp-engine"
"""File name of the command-line executable; any other name starts the window."""


def main() -> int:
    # engine.data.places starts worker processes with the spawn method. In a frozen app
    # each worker runs this executable again, and freeze_support() (extended by
    # PyInstaller's runtime hook to Linux and macOS) turns that process into the worker.
    multiprocessing.freeze_support()

    # sys.executable is the resolved path of the executable, so a symbolic link to it
    # under another name (say ~/.local/bin/colorapp) still starts the right entry point.
    if Path(sys.executable).name == ENGINE_EXECUTABLE:
        from engine.cli import main as engine_main

        return engine_main()

    from colorapp.app import main as app_main

    return app_main()


if __name__ == "__main__":
    sys.exit(main())

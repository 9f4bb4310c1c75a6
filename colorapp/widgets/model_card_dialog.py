"""Dialog that shows a model's card (architecture, training data, metrics, licence)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from engine.catalog import ModelEntry


class ModelCardDialog(QDialog):
    """Read-only view of ``ModelEntry.card_markdown``, with the model file's location."""

    def __init__(self, entry: ModelEntry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"About {entry.name}")
        self.resize(560, 520)

        self.browser = QTextBrowser(self)
        self.browser.setOpenExternalLinks(True)
        origin = "Shipped with ColorApp" if entry.shipped else "Your model"
        self.browser.setMarkdown(f"{entry.card_markdown.rstrip()}\n\n---\n\n{origin}: `{entry.path}`\n")

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)

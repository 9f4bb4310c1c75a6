"""Data files shipped with ColorApp: model weights with their cards, and icons."""

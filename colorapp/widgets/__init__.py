"""Reusable widgets of the ColorApp window."""

"""Placeholders of the shipped stack files: moved to core.config.placeholders, beside the config
it checks; this name stays importable."""

from core.config.placeholders import (
    NIL_GUID,
    SECRET_KEY,
    commands,
    preview_warning,
    refuse,
)

__all__ = ["NIL_GUID", "SECRET_KEY", "commands", "preview_warning", "refuse"]

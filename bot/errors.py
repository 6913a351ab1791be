"""Expected failures: each carries a message for the person who caused it."""

from bot.logic.errors import UserError

__all__ = ["ConfigError", "NotPermitted", "UserError"]


class NotPermitted(UserError):
    """Raise when the member lacks the role or permission an action needs."""


class ConfigError(Exception):
    """Raise when a setting is missing or malformed; the message names it and how to fix it."""

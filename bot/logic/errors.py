"""Expected failures that carry a message meant for the member who caused them."""


class UserError(Exception):
    """Raise when input or state makes an action impossible; the message is shown to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

"""Domain errors: raised by services, turned into messages by views, API and CLI."""


class DomainError(Exception):
    """A rule of the domain refused the operation; the message is for the user."""

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return str(self.message)


class NotFound(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="not_found")


class PermissionDenied(DomainError):
    """`hint` says who may (the roles that have the right), for the 403 page."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message, code="permission_denied")
        self.hint = hint


class Conflict(DomainError):
    """The object is not in a state that allows this (HTTP 409): e.g. a request already
    dispatched by someone else. Nothing was changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="conflict")

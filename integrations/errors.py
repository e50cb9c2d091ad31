"""Errors raised by outbound integrations; they keep the provider's own code for the logs."""

from __future__ import annotations


class IntegrationError(Exception):
    def __init__(self, provider: str, code: str | int, message: str) -> None:
        self.provider = provider
        self.code = code
        self.message = message
        super().__init__(f"{provider} error {code}: {message}")


class ServiceUnavailable(IntegrationError):
    """The service did not answer (down, starting, timed out): retry later."""

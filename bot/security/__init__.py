"""Guarding secrets: lockouts for the guessable ones, and the audit log."""

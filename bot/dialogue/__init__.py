"""Dialogue stage: conversation state, the dialogue manager and its global commands."""

"""Dialogue stage: conversational flows (apply, book an appointment or home visit, progress).

One flow per module, each a declared state machine: states as a StrEnum, a state → step
table at the top, and steps `(ctx, message) -> Turn(replies, next_state, slot_updates)`.
The flows arrive with the applications and appointments issues; the NLU intents that start
them (apply, book_appointment, book_home_visit, cancel_appointment, check_progress) exist.
"""

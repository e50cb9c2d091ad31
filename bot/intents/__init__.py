"""Dialogue stage: the intents the NLU recognises (names fixed by issue #2, shared with nlu_data/).

Handlers that answer each intent arrive with the dialogue core; this enum is the contract
between the Rasa training data and the bot, checked by the tests.
"""

from enum import StrEnum


class Intent(StrEnum):
    GREET = "greet"
    GOODBYE = "goodbye"
    THANKS = "thanks"
    AFFIRM = "affirm"
    DENY = "deny"
    ASK_MATERIALS = "ask_materials"
    ASK_PROCEDURE = "ask_procedure"
    ASK_CONDITIONS = "ask_conditions"
    ASK_TIME_LIMIT = "ask_time_limit"
    ASK_FEE = "ask_fee"
    ASK_LOCATION = "ask_location"
    ASK_OFFICE_HOURS = "ask_office_hours"
    APPLY = "apply"
    BOOK_APPOINTMENT = "book_appointment"
    BOOK_HOME_VISIT = "book_home_visit"
    CANCEL_APPOINTMENT = "cancel_appointment"
    CHECK_PROGRESS = "check_progress"
    COMPLAIN = "complain"
    HUMAN_HANDOFF = "human_handoff"
    OUT_OF_SCOPE = "out_of_scope"

"""Domain services stage: the clerks' console — accounts, sessions, audit, figures."""

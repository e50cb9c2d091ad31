"""Domain services stage: teaching the bot from the questions it could not answer."""

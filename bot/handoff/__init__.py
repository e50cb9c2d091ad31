"""Domain services stage: 转人工 — questions handed to the clerks, answered, rated."""

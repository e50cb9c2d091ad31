"""Domain services stage: notices to the villager's phone, from the outbox of domain events."""

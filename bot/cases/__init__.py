"""Domain services stage: applications (办件) — identity checks, statuses, deadlines, storage."""

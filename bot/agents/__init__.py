"""Domain services stage: village agents (代办员) — registered by clerks, bound to WeChat,
filing for villagers with their consent, and what waits in their villages."""

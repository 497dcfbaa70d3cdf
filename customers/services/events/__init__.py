"""The shop event pipeline: API keys, validation and the effect of each event type."""

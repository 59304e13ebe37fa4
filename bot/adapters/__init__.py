"""Platform adapters: translate platform events to core values and back; no policy."""

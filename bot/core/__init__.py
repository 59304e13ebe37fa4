"""The conversation core: platform-neutral use cases and types (no platform imports)."""

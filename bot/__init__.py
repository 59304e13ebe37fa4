"""counselbot: a mental-health support bot. Complements human care; never replaces it."""

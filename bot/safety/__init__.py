"""The safety layer: risk assessment, crisis resources and the output guard.

Nothing here depends on the model: `risk.assess` runs on every user message (pure,
synchronous, no I/O), `resources` holds the vetted helplines and the scripted crisis
texts, and `output_guard.check` screens a model reply before anyone sees it.
"""

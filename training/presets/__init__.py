"""Training presets as JSON files; `training.sft.load_preset(name)` reads them."""

"""The fine-tuning pipeline: data preparation, QLoRA training with TRL, evaluation."""

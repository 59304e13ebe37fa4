"""Inference: the model worker, its backends, prompt building and model loading."""

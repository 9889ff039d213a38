"""Evaluation sets and prompt formats the model gate runs a fine-tuned model under before release."""

"""Model and tokenizer file formats."""

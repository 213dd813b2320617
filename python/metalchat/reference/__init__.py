"""Reference models in numpy: slow and simple, the ground truth for the C engines."""

"""Training: one loop for every trainable model, Bicubic++ pruning and bias removal, and their CLIs."""

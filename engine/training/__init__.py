"""Training the colourization GANs: recipes, the trainer, callbacks and checkpoints."""

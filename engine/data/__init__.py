"""Training data: photo folders, screening for grayscale and broken files, labels."""

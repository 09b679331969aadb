"""The tiny consumer's own component (the pipeline scenario's source archive)."""

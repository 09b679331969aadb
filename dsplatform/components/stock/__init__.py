"""The stock components of the platform, one module each, found by scanning this package (``COMPONENT``)."""

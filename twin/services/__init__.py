"""Service functions: one module per concern, each taking a Session/Connection and plain data."""

"""The bundled demo supplier estate: generated, never hand typed."""

"""A naive Channels implementation of Caseboard's protocol, the benchmark's baseline (a)."""

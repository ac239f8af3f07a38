"""Channel adapters: one package per channel (telegram/, zalo/) turns its updates into
the neutral chat model and renders replies within its own limits."""

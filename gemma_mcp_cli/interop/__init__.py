"""Other clients' config dialects and in-place TOML editing; imports state, config and the shared leaves."""

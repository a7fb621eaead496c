"""All MCP I/O (the one user of `mcp`): manager, pool, transports, auth; imports state, config, leaves."""

"""Warm sessions: the stdlib client and the daemon; imports client, state, config and the shared leaves."""

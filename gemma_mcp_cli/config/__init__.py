"""Configuration: discovery, reading and checking, ${VAR}, gemma-cli settings, models; imports leaves."""

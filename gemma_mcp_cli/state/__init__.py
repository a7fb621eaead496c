"""What persists between runs: cache, stats, config snapshot, atomic files, paths; imports config, leaves."""

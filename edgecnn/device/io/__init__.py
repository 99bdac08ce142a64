"""Where samples come from and results go: sources, hardware devices, sinks and the spool."""

"""pulsebot: handlers."""

"""pulsebot: bot."""

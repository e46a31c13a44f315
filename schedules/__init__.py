"""pulsebot: schedules."""

"""The console face: pulsebot in a terminal, same handlers and store, no chat account."""

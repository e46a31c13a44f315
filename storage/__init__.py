"""pulsebot's store: SQLModel tables, the async engine, migrations. Imports nothing of the project."""

"""The web face: the leader dashboard under `/dashboard/`, served by the same aiohttp server as the chat faces."""

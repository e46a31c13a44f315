"""Queries: keyword-only, session-first functions that read and write the store and return named rows."""

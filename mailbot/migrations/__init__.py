"""Alembic migrations: every schema change of mailbot is a revision here (`mailbot db upgrade`)."""

"""Policies decide what an agent does; they never touch the database."""

"""Agents' identities: populations, persona files, synthetic generation, social graphs."""

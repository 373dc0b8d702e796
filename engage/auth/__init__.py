"""Accounts: registration, verification, sign-in, password reset and profile."""

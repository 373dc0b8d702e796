"""Agencies and their staff memberships."""

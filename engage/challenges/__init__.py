"""Challenges: the public list, each challenge's page and its ranked ideas."""

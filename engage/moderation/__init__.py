"""Moderation: the queue, decisions on ideas and comments, flags, merges, risk, audit."""

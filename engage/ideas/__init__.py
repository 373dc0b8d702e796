"""Ideas, votes and comments: citizen participation."""

"""Read-side queries over campaigns and messages."""

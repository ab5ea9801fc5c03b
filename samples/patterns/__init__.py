"""One small sample per reliability pattern; see README.md."""

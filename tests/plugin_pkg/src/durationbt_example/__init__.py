"""Example third-party durationbt plugin package."""

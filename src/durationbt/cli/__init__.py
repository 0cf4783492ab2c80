"""The typer CLI: a thin layer that parses arguments, calls the library and prints with rich."""

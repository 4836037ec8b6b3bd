"""Pure-Python heart of paperfeed: parsers, query handling and ranking maths. Never imports Django."""

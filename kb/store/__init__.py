"""Rows -> the knowledge base; the public database derived from it; search."""

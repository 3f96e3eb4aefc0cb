"""What the project talks about, below every stage: vocabularies, the data dictionary, Italian
words and the notes' syntax.
"""

"""Research formats made from the public database (REFI-QDA project and codebook)."""

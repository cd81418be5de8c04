"""DIFF + WRITE: the output tree's state, the comparison, the ownership policy, and the disk."""

"""Case studies: the paper's experiments as runnable, reported studies."""

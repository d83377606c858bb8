"""purerl: deep reinforcement learning from scratch.

numpy for the math, numba for the simulators, nothing else at run time. Each
equation of the lecture notes has one function that computes it; see README.md
for the map from the notes to the modules.
"""

__version__ = "0.1.0"

"""torch models: escnn steerable CNNs, plain CNNs, the permutation-equivariant graph VAE.

Import modules by full path (``orbitspace.models.escnn_cnn``); nothing is re-exported here, so
that importing one model does not import torch, escnn and torch-geometric all at once.
"""

"""Packaged data loaders (MNIST, QM9) and safe readers of users' latent files.

Import modules by full path (``orbitspace.datasets.mnist``); nothing is re-exported here.
"""

"""Adapters to escnn, e3nn and PyG types.  Import submodules by full path
(``orbitspace.interop.escnn``); each imports its library only when used."""

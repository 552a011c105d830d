"""Optimizers over rolegraph ASTs."""

"""PLAN + RENDER, pure: the model -> {path: bytes}."""

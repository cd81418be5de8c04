"""VALIDATE: semantic rules over the model, one small function per rule."""

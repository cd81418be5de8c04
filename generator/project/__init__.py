"""INPUT: environments.yaml and the catalog -> a validated, positioned model."""

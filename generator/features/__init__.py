"""Features over the model, each with its views: the dependency graph, explain, init."""

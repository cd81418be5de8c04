"""The HCL toolkit: literals, hclwrite's canonical layout, the lexer, syntax checks. Knows nothing of YAML."""

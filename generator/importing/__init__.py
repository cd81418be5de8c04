"""tfgen import: a hand-written Terragrunt live tree into environments.yaml and catalog/.

``evaluate`` reads a tree with Terragrunt itself (a copy of it: import never writes into
the source), ``recover`` turns the evaluated units and their HCL into the project's
documents, ``compare`` puts two evaluations side by side unit by unit (the round trip).
"""

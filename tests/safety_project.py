"""A small project for the write-safety tests: dev (unprotected, one region) and prod
(protected, two regions), two modules, and a unit limited to dev. Small enough that a
render takes milliseconds, rich enough for creations, changes, deletions and
protected deletions."""

from __future__ import annotations

import textwrap
from pathlib import Path

from click.testing import CliRunner, Result

from generator.cli import main

ENVIRONMENTS = """\
version: 1
project: {name: small}
state: {bucket: "{project}-{account_id}-state", region: us-east-1}
environments:
  dev:
    account_id: "111111111111"
    deletion_protection: false
    settings: {backup_retention_days: 7}
    regions:
      us-east-1: {vpc_cidr: 10.10.0.0/16, azs: [a, b]}
  prod:
    account_id: "444444444444"
    deletion_protection: true
    settings: {backup_retention_days: 30}
    regions:
      us-east-1: {vpc_cidr: 10.40.0.0/16, azs: [a, b]}
      eu-west-1: {vpc_cidr: 10.50.0.0/16, azs: [a, b]}
units:
  vpc: {module: networking/vpc}
  db: {module: data/db}
  cache: {module: data/db, environments: [dev]}
"""

VPC = """\
source: tfr:///terraform-aws-modules/vpc/aws
version: 5.17.0
layer: 01-network
inputs:
  name: !hcl '"small-${local.env.environment}"'
  cidr: !hcl local.region.vpc_cidr
"""

DB = """\
source: tfr:///terraform-aws-modules/rds/aws
version: 6.10.0
layer: 02-data
inputs:
  engine: postgres
  backup_retention_period: !hcl local.env.settings.backup_retention_days
"""

DEV_DB = "environments/dev/us-east-1/02-data/db/terragrunt.hcl"
DEV_CACHE = "environments/dev/us-east-1/02-data/cache/terragrunt.hcl"
DEV_ENV = "environments/dev/env.hcl"
PROD_ENV = "environments/prod/env.hcl"
PROD_EU = "environments/prod/eu-west-1"


def write_project(root: Path) -> Path:
    """Write the project below *root*; returns its environments.yaml."""
    files = {"environments.yaml": ENVIRONMENTS, "catalog/networking/vpc.yaml": VPC, "catalog/data/db.yaml": DB}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return root / "environments.yaml"


def edit(config: Path, old: str, new: str) -> None:
    text = config.read_text(encoding="utf-8")
    assert old in text, old
    config.write_text(text.replace(old, new, 1), encoding="utf-8")


def tfgen(config: Path, *args: str) -> Result:
    """``tfgen render -c CONFIG ARGS...`` in-process."""
    return CliRunner().invoke(main, ["render", "-c", str(config), *args])

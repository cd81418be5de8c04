"""``tfgen init``: a new project that validates and renders as it is.

:func:`scaffold_files` is pure: it returns every file of the new project as text;
``output.disk.write_new`` creates them, refusing to touch any file that already exists.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..checks.network import AWS_REGIONS
from ..errors import ArgumentError, ArgumentProblem, Location
from ..project import schema
from ..project.modules.lockfile import scaffold_lock
from ..project.names import NAME, PROJECT_NAME, looks_like_production
from ..project.suggest import closest

SCHEMA_DIR = ".tfgen"
ENVIRONMENTS_SCHEMA = f"{SCHEMA_DIR}/environments.schema.json"
CATALOG_SCHEMA = f"{SCHEMA_DIR}/catalog.schema.json"
MAX_ENVIRONMENTS = 24
MAX_REGIONS = 9



@dataclass(frozen=True)
class Options:
    project: str
    environments: tuple[str, ...] = ("dev",)
    regions: tuple[str, ...] = ("us-east-1",)


def project_name_for(directory: Path) -> str:
    """A valid project name from a directory name (``My_Infra`` -> ``my-infra``)."""
    name = re.sub(r"[^a-z0-9-]+", "-", directory.resolve().name.lower())
    name = re.sub(r"-{2,}", "-", name).strip("-")
    name = re.sub(r"^[^a-z]+", "", name)[:63].rstrip("-")
    return name or "infra"


#: Where init's problems are reported.
INIT = Location("tfgen init")


def check(options: Options) -> None:
    """Reject options that would not give a valid project (ArgumentError, every problem
    at once, naming init's arguments: project, environments, regions)."""
    problems: list[ArgumentProblem] = []

    def problem(argument: str, value: str, message: str, hint: str = "") -> None:
        problems.append(ArgumentProblem(argument, value, message, hint))

    if not PROJECT_NAME.match(options.project):
        problem("project", repr(options.project), "lowercase letters, digits and '-', starting with a letter")
    if not options.environments:
        problem("environments", "", "name at least one environment")
    if len(options.environments) > MAX_ENVIRONMENTS:
        problem("environments", "", f"at most {MAX_ENVIRONMENTS} (each gets its own VPC range)")
    for name in options.environments:
        if not NAME.match(name):
            problem("environments", "", f"{name!r} is not a name", "1-63 lowercase letters, digits, '-' or '_'")
    if len(set(options.environments)) != len(options.environments):
        problem("environments", "", "a name is repeated")
    if not options.regions:
        problem("regions", "", "name at least one region")
    if len(options.regions) > MAX_REGIONS:
        problem("regions", "", f"at most {MAX_REGIONS}")
    for region in options.regions:
        if region not in AWS_REGIONS:
            close = closest(region, AWS_REGIONS, n=3)
            hint = f"did you mean {', '.join(close)}?" if close else ""
            problem("regions", repr(region), "not an AWS region", hint)
    if len(set(options.regions)) != len(options.regions):
        problem("regions", "", "a region is repeated")
    if problems:
        raise ArgumentError(problems, INIT, rule="init")


def _account_id(index: int) -> str:
    return str(index + 1) * 12 if index < 9 else f"{index + 1:012d}"


def _environment_block(index: int, name: str, regions: Sequence[str]) -> str:
    # production-like names get the large tier, deletion protection and multi-AZ, so that
    # the new project passes the same policy check validate applies
    production = looks_like_production(name)
    lines = [
        f"  {name}:",
        f'    account_id: "{_account_id(index)}"   # replace with the AWS account id of {name}',
    ]
    if production:
        lines += [
            "    sizing: large",
            "    deletion_protection: true     # prevent_destroy, and tfgen never prunes it",
            "    multi_az: true",
            "    settings: { nat_gateway: per_az, backup_retention_days: 30 }",
        ]
    lines.append("    regions:")
    for number, region in enumerate(regions):
        role = "primary" if number == 0 else "dr"
        cidr = f"10.{10 * (index + 1) + number}.0.0/16"
        lines.append(f"      {region}: {{ vpc_cidr: {cidr}, azs: [a, b, c], role: {role} }}")
    return "\n".join(lines)


def environments_yaml(options: Options) -> str:
    environments = "\n\n".join(
        _environment_block(i, name, options.regions) for i, name in enumerate(options.environments)
    )
    return f"""\
# yaml-language-server: $schema={ENVIRONMENTS_SCHEMA}
# {options.project}: the environments, regions and units that tfgen renders into output/.
# Edit this file, then run `tfgen validate` and `tfgen render`. README.md has the next steps.
version: 1

project:
  name: {options.project}
  tags:
    Project: {options.project}
    ManagedBy: Terraform

terraform:
  required_version: ">= 1.11.0"            # use_lockfile: OpenTofu >= 1.10, Terraform >= 1.11
  terragrunt_version: ">= 1.1.3, < 2.0.0"  # the Terragrunt tfgen's tests run
  aws_provider_version: "~> 5.62"          # replaces each module's own aws requirement

state:
  bucket: "{{project}}-{{account_id}}-tfstate"   # one S3 bucket per account
  region: {options.regions[0]}
  lock: lockfile                  # S3 native locking
  encrypt: true

sizing:                           # named tiers; every tier defines the same keys
  small: {{ db_instance_class: db.t3.micro,  db_storage_gb: 20 }}
  large: {{ db_instance_class: db.r6g.large, db_storage_gb: 100 }}

defaults:                         # deep-merged under every environment
  sizing: small
  deletion_protection: false
  multi_az: false
  settings:
    nat_gateway: single           # none | single | per_az
    backup_retention_days: 7

environments:
{environments}

units:                            # deployed in every environment and region unless limited
  vpc:      {{ module: networking/vpc }}
  database: {{ module: data/postgres }}
"""


VPC_YAML = f"""\
# yaml-language-server: $schema=../../{CATALOG_SCHEMA}
description: VPC with public, private and database subnets in every zone of the region
source: tfr:///terraform-aws-modules/vpc/aws
version: 5.17.0
layer: 01-network
inputs:
  name: !hcl '"${{local.project.name}}-${{local.env.environment}}"'
  cidr: !hcl local.region.vpc_cidr
  azs: !hcl local.region.azs
  # One /24 per zone: public at +1.., private at +11.., database at +21..
  public_subnets: !hcl '[for i, az in local.region.azs : cidrsubnet(local.region.vpc_cidr, 8, i + 1)]'
  private_subnets: !hcl '[for i, az in local.region.azs : cidrsubnet(local.region.vpc_cidr, 8, i + 11)]'
  database_subnets: !hcl '[for i, az in local.region.azs : cidrsubnet(local.region.vpc_cidr, 8, i + 21)]'
  create_database_subnet_group: true
  enable_dns_hostnames: true
  enable_dns_support: true
  enable_nat_gateway: !hcl 'local.region.settings.nat_gateway != "none"'
  single_nat_gateway: !hcl 'local.region.settings.nat_gateway == "single"'
  one_nat_gateway_per_az: !hcl 'local.region.settings.nat_gateway == "per_az"'
"""

POSTGRES_YAML = f"""\
# yaml-language-server: $schema=../../{CATALOG_SCHEMA}
description: PostgreSQL on Amazon RDS, in the database subnets of the region's VPC
source: tfr:///terraform-aws-modules/rds/aws
version: 6.10.0
layer: 02-data
dependencies:
  vpc:
    unit: vpc
    outputs:                      # module input <- output of the vpc unit
      db_subnet_group_name: database_subnet_group_name
      vpc_security_group_ids: [default_security_group_id]
    mock_outputs:                 # stand-ins for init, validate and plan before the VPC exists
      database_subnet_group_name: mock-database-subnet-group
      default_security_group_id: sg-00000000000000000
inputs:
  identifier: !hcl '"${{local.project.name}}-${{local.env.environment}}-postgres"'
  engine: postgres
  engine_version: "16"
  family: postgres16
  major_engine_version: "16"
  instance_class: !hcl local.env.sizing.db_instance_class
  allocated_storage: !hcl local.env.sizing.db_storage_gb
  multi_az: !hcl local.env.multi_az
  db_name: app
  username: app
  manage_master_user_password: true
  backup_retention_period: !hcl local.env.settings.backup_retention_days
  deletion_protection: !hcl local.env.deletion_protection
  skip_final_snapshot: !hcl '!local.env.deletion_protection'
"""


def readme(options: Options) -> str:
    first = f"{options.environments[0]}/{options.regions[0]}"
    return f"""\
# {options.project}

Infrastructure described in one file, `environments.yaml`, and rendered by tfgen
(the `terragrunt-tfgen` Python package) into a Terragrunt tree in `output/`.

## Next steps

1. Put your AWS account ids in `environments.yaml` (`account_id` of every environment)
   and check the state bucket name under `state:`.
2. Check and render:

   ```sh
   tfgen validate
   tfgen render
   ```

   `output/` now holds `root.hcl`, `_envcommon/` and one directory per environment,
   region and unit. Commit it with `environments.yaml`: reviewers read the rendered diff.
3. See what you built and in which order it is applied:

   ```sh
   tfgen graph
   tfgen explain {first}/database
   ```

4. Deploy with Terragrunt from `output/environments/{first}`
   (`terragrunt run --all plan`, then `apply`).

## Everyday changes

- Add a region: one block under `environments.<env>.regions`.
- Add an environment: one block under `environments:`.
- Add a service: a module file under `catalog/<category>/<module>.yaml` and one line
  under `units:`.
- Change a size: edit a tier under `sizing:`, or pick another tier for an environment.
- Add or upgrade a module: set its `source`/`version`, then `tfgen modules lock`, which
  records the module's variables and outputs in `catalog/.tfgen-modules.lock.json`
  (`tfgen validate` checks every input against them; commit the lock).

After every change run `tfgen render` and commit `environments.yaml` and `output/` together.

## Editors

`environments.yaml` and the catalog files start with a `yaml-language-server` comment that
points at the JSON Schemas in `{SCHEMA_DIR}/` (written by `tfgen schema -o ...`), so editors with
the YAML language server complete and check keys. Tell it about tfgen's `!hcl` tag
(VS Code: `"yaml.customTags": ["!hcl scalar"]`).
"""


#: What a Terragrunt run leaves in the project that does not belong in version control.
GITIGNORE = """\
# Written by tfgen init. Terragrunt's and OpenTofu/Terraform's working files:
.terragrunt-cache/
.terraform/
terragrunt.rendered.json
*.tfplan
crash.log
# tfgen's temporary files of an interrupted render (the next render removes them)
.*.tfgen-tmp
.tfgen-journal.json
"""


def scaffold_files(options: Options) -> dict[str, str]:
    """Every file of a new project: relative posix path -> text."""
    check(options)
    return {
        "environments.yaml": environments_yaml(options),
        "catalog/networking/vpc.yaml": VPC_YAML,
        "catalog/data/postgres.yaml": POSTGRES_YAML,
        "catalog/.tfgen-modules.lock.json": scaffold_lock(),
        ENVIRONMENTS_SCHEMA: schema.schema_text(schema.ENVIRONMENTS),
        CATALOG_SCHEMA: schema.schema_text(schema.CATALOG),
        "README.md": readme(options),
        ".gitignore": GITIGNORE,
    }


def environment_names(text: str) -> tuple[str, ...]:
    """``dev,prod`` or ``dev prod`` -> ("dev", "prod")."""
    return tuple(part for part in re.split(r"[\s,]+", text.strip()) if part)

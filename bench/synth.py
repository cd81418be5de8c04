"""Synthetic tfgen projects of a given size: environments x regions x units.

The shape follows the reference project and grows it the way large estates grow:
more accounts (environments), more regions per account, more services per region and
a bigger module catalog. Every project has

- dependency chains vpc -> rds -> service -> worker, and a cross-region one
  (rds-replica in every secondary region reads rds in the primary region);
- placement limits of both kinds (``environments:``/``regions:`` lists and ``false``
  overrides), arranged so that every region holds exactly ``units_per_region`` units;
- input overrides at every level (unit, environment, region), nested maps that are
  deep-merged, sizing tiers with ``sizing_overrides`` and free-form settings;
- ``!hcl`` expressions reading ``local.env``, ``local.region``, ``local.project`` and
  dependency outputs, like the reference catalog;
- catalog modules of the reference catalog's size (15-25 inputs, mock outputs).

The YAML is written by a small emitter (below) so that ``!hcl`` tags come out as a
user would write them. Generation is deterministic: the same shape gives the same bytes.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
#: The five reference catalog modules as they were before the reference project grew
#: security groups, a load balancer and monitoring (issue 13): a frozen copy, so that the
#: synthetic projects, and the figures measured on them, stay the same.
BENCH_CATALOG = Path(__file__).resolve().parent / "catalog"
REGIONS = (
    "us-east-1",
    "eu-west-1",
    "us-west-2",
    "eu-central-1",
    "ap-southeast-1",
    # Regions beyond the fifth are used only by the 51,200-unit shape (16 regions); all
    # have zones a, b and c (checks/zones.py), which the synthetic regions use.
    "sa-east-1",
    "us-east-2",
    "us-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-north-1",
    "eu-south-1",
    "ap-south-1",
    "ap-southeast-2",
    "ap-northeast-3",
    "me-south-1",
)
TIERS = ("micro", "small", "medium", "large")
#: Units placed in every region besides the services: vpc, rds, ecs-cluster,
#: ecs-capacity, one of audit-log/rds-replica, one of legacy-api/orders-api-v2.
FIXED_UNITS = 6
REFERENCE_MODULES = (
    "networking/vpc",
    "data/rds",
    "services/ecs-cluster",
    "services/ecs-capacity",
    "services/ecs-service",
)


@dataclass(frozen=True)
class Shape:
    environments: int
    regions: int  # per environment
    units_per_region: int
    modules: int  # catalog size, including the reference modules

    @property
    def units(self) -> int:
        return self.environments * self.regions * self.units_per_region


#: The sizes the benchmark reports, by unit count.
SHAPES: dict[int, Shape] = {
    80: Shape(environments=4, regions=2, units_per_region=10, modules=10),
    1_000: Shape(environments=10, regions=4, units_per_region=25, modules=20),
    10_000: Shape(environments=40, regions=5, units_per_region=50, modules=40),
    # The size of issue 27 and QUALITY.md's large-estate row: 64 x 16 x 50.
    51_200: Shape(environments=64, regions=16, units_per_region=50, modules=40),
}


class Hcl(str):
    """A string emitted with the !hcl tag."""


# --- a minimal YAML emitter ----------------------------------------------------------

_PLAIN_SAFE = re.compile(r"^[A-Za-z][A-Za-z0-9._/-]*$")
_YAML_WORDS = frozenset({"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"})


def _scalar(value: Any) -> str:
    if isinstance(value, Hcl):
        return "!hcl '" + str(value).replace("'", "''") + "'"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str) and _PLAIN_SAFE.match(value) and value.lower() not in _YAML_WORDS:
        return value
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    raise TypeError(type(value).__name__)


def _flow(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + " }" if value else "{}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _scalar(value)


def _is_flat(value: Any) -> bool:
    """Small maps and lists of scalars are written in flow style, like a person would."""
    if isinstance(value, Mapping):
        return len(value) <= 4 and all(not isinstance(v, (Mapping, list, tuple)) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(not isinstance(v, (Mapping, list, tuple)) or _is_flat(v) for v in value)
    return True


def dump(value: Mapping[str, Any], indent: int = 0) -> str:
    lines: list[str] = []
    pad = "  " * indent
    for name, item in value.items():
        if isinstance(item, Mapping) and item and not _is_flat(item):
            lines.append(f"{pad}{name}:")
            lines.append(dump(item, indent + 1))
        elif isinstance(item, (list, tuple)) and item and not _is_flat(item):
            lines.append(f"{pad}{name}:")
            for element in item:
                if isinstance(element, Mapping) and element:
                    body = dump(element, indent + 2).lstrip()
                    lines.append(f"{pad}  - {body}")
                else:
                    lines.append(f"{pad}  - {_flow(element)}")
        else:
            lines.append(f"{pad}{name}: {_flow(item)}")
    return "\n".join(lines)


# --- the catalog -----------------------------------------------------------------------

_EXTRA_KINDS = (
    # (category, kind, layer, dependencies)
    ("services", "lambda-api", "04-apps", ("vpc", "cluster", "database")),
    ("data", "dynamodb-table", "02-data", ()),
    ("messaging", "sqs-queue", "02-data", ()),
    ("services", "queue-worker", "05-workers", ("vpc", "cluster", "api")),
    ("observability", "dashboards", "05-workers", ("database",)),
    ("security", "iam-roles", "01-network", ()),
)


def _dependency(kind: str) -> tuple[str, dict[str, Any]]:
    if kind == "vpc":
        return "vpc", {
            "unit": "vpc",
            "outputs": {"subnet_ids": "private_subnets", "security_group_ids": ["default_security_group_id"]},
            "mock_outputs": {
                "private_subnets": ["subnet-00000000000000001", "subnet-00000000000000002"],
                "default_security_group_id": "sg-00000000000000000",
            },
        }
    if kind == "cluster":
        return "cluster", {
            "unit": "ecs-cluster",
            "outputs": {"cluster_arn": "arn"},
            "mock_outputs": {"arn": "arn:aws:ecs:us-east-1:000000000000:cluster/mock"},
        }
    if kind == "database":
        return "database", {"unit": "rds", "mock_outputs": {"db_instance_address": "mock-db.internal"}}
    if kind == "api":
        return "api", {
            "unit": "svc-000",
            "outputs": {"upstream_url": "service_url"},
            "mock_outputs": {"service_url": "https://mock.internal"},
        }
    raise ValueError(kind)


def _extra_module(index: int) -> tuple[str, dict[str, Any]]:
    category, kind, layer, deps = _EXTRA_KINDS[index % len(_EXTRA_KINDS)]
    name = f"{kind}-{index:02d}"
    inputs: dict[str, Any] = {
        "name": Hcl(f'"${{local.project.name}}-${{local.env.environment}}-{name}"'),
        "region": Hcl("local.region.aws_region"),
        "description": f"Synthetic {kind} module number {index}",
        "enabled": True,
        "retention_days": Hcl("local.env.settings.log_retention_days"),
        "kms_encrypted": Hcl("local.env.settings.encryption_at_rest"),
        "instance_type": Hcl("local.env.sizing.ecs_instance_type"),
        "min_capacity": Hcl("local.env.settings.ecs_min_size"),
        "max_capacity": Hcl("local.env.settings.ecs_max_size"),
        "zones": Hcl("local.region.azs"),
        "subnets_cidrs": Hcl(
            f"[for i, az in local.region.azs : cidrsubnet(local.region.vpc_cidr, 8, i + {30 + index})]"
        ),
        "alarm_actions": [],
        "timeout_seconds": 30 + index,
        "memory_mb": 512,
        "labels": {"team": f"team-{index % 7}", "tier": kind, "cost-center": f"cc-{1000 + index}"},
        "settings": {
            "logging": {"level": "info", "format": "json", "sample_rate": 0.1},
            "limits": {"concurrency": 10 + index, "burst": 20},
        },
        "deletion_protection": Hcl("local.env.deletion_protection"),
    }
    if kind in ("lambda-api", "queue-worker"):
        inputs["environment_variables"] = {
            "LOG_LEVEL": "info",
            "REGION": Hcl("local.region.aws_region"),
            "ENVIRONMENT": Hcl("local.env.environment"),
        }
    module: dict[str, Any] = {
        "description": f"Synthetic {kind} module #{index}",
        "source": f"git::https://example.com/modules/{kind}.git",
        "version": f"v1.{index}.0",
        "layer": layer,
    }
    if deps:
        module["dependencies"] = dict(_dependency(d) for d in deps)
    module["inputs"] = inputs
    return f"{category}/{name}", module


_RDS_REPLICA: dict[str, Any] = {
    "description": "Cross-region read replica of the primary region's database",
    "source": "tfr:///terraform-aws-modules/rds/aws",
    "version": "6.10.0",
    "layer": "02-data",
    "dependencies": {
        "vpc": {
            "unit": "vpc",
            "outputs": {"db_subnet_group_name": "database_subnet_group_name"},
            "mock_outputs": {"database_subnet_group_name": "mock-database-subnet-group"},
        },
        "source": {
            "unit": "rds",
            "region": "us-east-1",
            "outputs": {"replicate_source_db": "db_instance_arn"},
            "mock_outputs": {"db_instance_arn": "arn:aws:rds:us-east-1:000000000000:db:mock"},
        },
    },
    "inputs": {
        "identifier": Hcl('"${local.project.name}-${local.env.environment}-${local.region.aws_region}-replica"'),
        "engine": "postgres",
        "engine_version": "16",
        "family": "postgres16",
        "major_engine_version": "16",
        "instance_class": Hcl("local.env.sizing.db_instance_class"),
        "multi_az": False,
        "storage_encrypted": True,
        "skip_final_snapshot": Hcl("!local.env.deletion_protection"),
        "deletion_protection": Hcl("local.env.deletion_protection"),
        "backup_retention_period": 0,
        "monitoring_interval": Hcl("local.env.settings.enhanced_monitoring ? 60 : 0"),
        "tags": {"Replica": "true", "SourceRegion": "us-east-1"},
    },
}

_AUDIT_LOG: dict[str, Any] = {
    "description": "Account-wide CloudTrail and audit log bucket, in the primary region only",
    "source": "tfr:///cloudposse/cloudtrail/aws",
    "version": "0.24.0",
    "layer": "06-audit",
    "dependencies": {
        "vpc": {"unit": "vpc", "mock_outputs": {"vpc_id": "vpc-00000000000000000"}},
    },
    "inputs": {
        "name": Hcl('"${local.project.name}-${local.env.environment}-audit"'),
        "enable_log_file_validation": True,
        "include_global_service_events": True,
        "is_multi_region_trail": True,
        "retention_days": Hcl("local.env.settings.log_retention_days * 12"),
        "s3_bucket_name": Hcl('"${local.project.name}-${local.env.account_id}-audit"'),
        "kms_encrypted": Hcl("local.env.settings.encryption_at_rest"),
        "event_selector": [
            {"read_write_type": "All", "include_management_events": True},
        ],
    },
}


def catalog(shape: Shape) -> dict[str, str]:
    """{catalog/<id>.yaml: text}: the reference catalog plus synthetic modules."""
    files = {f"catalog/{m}.yaml": (BENCH_CATALOG / f"{m}.yaml").read_text() for m in REFERENCE_MODULES}
    files["catalog/data/rds-replica.yaml"] = dump(_RDS_REPLICA) + "\n"
    files["catalog/observability/audit-log.yaml"] = dump(_AUDIT_LOG) + "\n"
    for index in range(max(shape.modules - len(files), 0)):
        module_id, module = _extra_module(index)
        files[f"catalog/{module_id}.yaml"] = dump(module) + "\n"
    return files


def service_modules(shape: Shape) -> list[str]:
    """Modules a service unit may use: ecs-service and the synthetic ones (round robin)."""
    extra = [_extra_module(i)[0] for i in range(max(shape.modules - len(REFERENCE_MODULES) - 2, 0))]
    return ["services/ecs-service", *extra]


# --- environments.yaml -------------------------------------------------------------------


def environment_names(count: int) -> list[str]:
    base = ["dev", "staging", "uat", "prod"]
    return base[:count] + [f"tenant-{i:03d}" for i in range(count - len(base))]


def _service(index: int, module: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"module": module}
    if module == "services/ecs-service":
        spec["description"] = f"Service {index}"
        spec["inputs"] = {
            "container_port": 8000 + index,
            "container_definitions": {
                "app": {
                    "image": f"public.ecr.aws/example/svc-{index:03d}:1.{index % 10}",
                    "port_mappings": [{"name": "http", "containerPort": 8000 + index, "protocol": "tcp"}],
                    "environment": Hcl(
                        '[{ name = "DB_HOST", value = dependency.database.outputs.db_instance_address }]'
                    ),
                }
            },
        }
    elif index % 3 == 0:
        spec["inputs"] = {"memory_mb": 1024, "labels": {"owner": f"squad-{index % 5}"}}
    return spec


def environments_yaml(shape: Shape) -> str:
    if shape.regions > len(REGIONS):
        raise ValueError(f"at most {len(REGIONS)} regions per environment")
    if shape.units_per_region <= FIXED_UNITS or shape.environments < 2 or shape.regions < 2:
        raise ValueError("need at least 2 environments, 2 regions and more than 6 units per region")
    envs = environment_names(shape.environments)
    regions = REGIONS[: shape.regions]
    services = shape.units_per_region - FIXED_UNITS
    modules = service_modules(shape)
    odd = [e for i, e in enumerate(envs) if i % 2 == 1]

    environments: dict[str, Any] = {}
    for i, name in enumerate(envs):
        protected = name == "prod" or (i >= 4 and i % 4 == 3)
        env: dict[str, Any] = {
            "account_id": f"{100000000000 + 7919 * (i + 1):012d}",
            "sizing": TIERS[i % len(TIERS)],
        }
        if i % 5 == 2:
            env["sizing_overrides"] = {"db_instance_class": "db.t3.small"}
        if protected:
            env["deletion_protection"] = True
            env["multi_az"] = True
        env["settings"] = {
            "nat_gateway": "per_az" if protected else ("none" if i % 3 == 0 else "single"),
            "flow_logs": protected,
            "ecs_min_size": 1 + i % 3,
            "ecs_max_size": 3 + i % 7,
            "log_retention_days": 30 if protected else 7,
        }
        region_blocks: dict[str, Any] = {}
        for j, region in enumerate(regions):
            block: dict[str, Any] = {
                "vpc_cidr": f"10.{(i * shape.regions + j) % 250}.0.0/16",
                "azs": ["a", "b", "c"],
            }
            if j == 0:
                block["role"] = "primary"
            elif j == 1:
                block["role"] = "dr"
                block["settings"] = {"nat_gateway": "single", "ecs_max_size": 2}
            if j > 0 and services > 1:
                block["units"] = {"svc-001": {"inputs": {"desired_count": 1 + j}}}
            if j == 1:
                block["units"] = {
                    **block.get("units", {}),
                    "rds": {"inputs": {"backup_retention_period": 1}},
                }
            region_blocks[region] = block
        env["regions"] = region_blocks
        overrides: dict[str, Any] = {}
        if i % 2 == 1:
            overrides["legacy-api"] = False
        overrides["svc-000"] = {
            "inputs": {"desired_count": 2 + i % 3, "container_definitions": {"app": {"cpu": 512, "memory": 1024}}}
        }
        if services > 2:
            overrides[f"svc-{2 + i % (services - 2):03d}"] = {"inputs": {"tags": {"Owner": f"team-{i % 9}"}}}
        env["units"] = overrides
        environments[name] = env

    units: dict[str, Any] = {
        "vpc": {"module": "networking/vpc"},
        "rds": {"module": "data/rds"},
        "ecs-cluster": {"module": "services/ecs-cluster"},
        "ecs-capacity": {"module": "services/ecs-capacity"},
        "audit-log": {"module": "observability/audit-log", "regions": [regions[0]]},
        "rds-replica": {"module": "data/rds-replica", "regions": list(regions[1:])},
        "legacy-api": _service(900, "services/ecs-service"),
        "orders-api-v2": {**_service(901, "services/ecs-service"), "environments": odd},
    }
    # svc-000 is an ecs-service (the "api" the queue workers depend on).
    for k in range(services):
        module = "services/ecs-service" if k == 0 else modules[k % len(modules)]
        units[f"svc-{k:03d}"] = _service(k, module)

    document: dict[str, Any] = {
        "version": 1,
        "project": {"name": "bench", "tags": {"Project": "bench", "ManagedBy": "Terraform", "CostCenter": "4242"}},
        "terraform": {
            "required_version": ">= 1.6.0",
            "terragrunt_version": ">= 0.80.0",
            "aws_provider_version": "~> 5.0",
        },
        "state": {"bucket": "{project}-{account_id}-tfstate", "region": "us-east-1", "lock": "lockfile"},
        "sizing": {
            "micro": {"db_instance_class": "db.t3.micro", "ecs_instance_type": "t3.micro", "db_storage_gb": 20},
            "small": {"db_instance_class": "db.t3.small", "ecs_instance_type": "t3.small", "db_storage_gb": 30},
            "medium": {"db_instance_class": "db.t3.medium", "ecs_instance_type": "t3.medium", "db_storage_gb": 50},
            "large": {"db_instance_class": "db.r6g.large", "ecs_instance_type": "m6g.large", "db_storage_gb": 100},
        },
        "defaults": {
            "deletion_protection": False,
            "multi_az": False,
            "settings": {
                "nat_gateway": "single",
                "flow_logs": False,
                "backup_retention_days": 14,
                "enhanced_monitoring": False,
                "encryption_at_rest": False,
                "container_insights": False,
                "ecs_min_size": 2,
                "ecs_max_size": 2,
                "placement": "binpack",
                "log_retention_days": 14,
            },
        },
        "environments": environments,
        "units": units,
    }
    header = f"# Synthetic tfgen project: {shape.units} units ({shape.environments} environments x "
    header += f"{shape.regions} regions x {shape.units_per_region} units). Generated by bench/synth.py.\n"
    return header + dump(document) + "\n"


def write_project(shape: Shape, root: Path) -> Path:
    """Write a fresh project for *shape* under *root*; returns its environments.yaml."""
    if root.exists():
        shutil.rmtree(root)
    files = {"environments.yaml": environments_yaml(shape), **catalog(shape)}
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root / "environments.yaml"


def copy_reference(root: Path) -> Path:
    """The repository's reference project (environments.yaml + catalog/), without output/."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    shutil.copy2(REPO / "environments.yaml", root / "environments.yaml")
    shutil.copytree(REPO / "catalog", root / "catalog")
    if (REPO / "templates").is_dir():
        shutil.copytree(REPO / "templates", root / "templates")
    return root / "environments.yaml"


# --- tenants (issue 24) ------------------------------------------------------------------


@dataclass(frozen=True)
class TenantShape:
    """A shared project (*base*) with *tenants* tenants, each getting *units* per_tenant
    units in every environment, in the primary region: tenants x units x environments
    tenant units besides the base's."""

    base: Shape
    tenants: int
    units: int

    @property
    def tenant_units(self) -> int:
        return self.tenants * self.units * self.base.environments


#: The tenants figure of bench/README.md: 100 tenants x 10 units x 4 environments.
TENANT_SHAPES: dict[int, TenantShape] = {
    4_000: TenantShape(base=SHAPES[80], tenants=100, units=10),
}


def tenants_yaml(shape: TenantShape) -> str:
    """environments.yaml of *shape*: the base project, a ``tenants:`` block and the
    per_tenant units (a database on the shared VPC, services reading it: per-tenant ->
    per-tenant and per-tenant -> shared dependencies), some tenants with their own
    account, settings and overrides."""
    text = environments_yaml(shape.base)
    tenants: dict[str, Any] = {}
    for i in range(shape.tenants):
        tenant: dict[str, Any] = {"regions": [REGIONS[0]], "tags": {"Client": f"client-{i:03d}"}}
        if i % 4 == 1:
            tenant["account_id"] = f"{500000000000 + 104729 * (i + 1):012d}"
        if i % 3 == 0:
            tenant["settings"] = {"ecs_max_size": 4 + i % 5}
        if i % 10 == 0:
            tenant["units"] = {"t-svc-001": {"inputs": {"desired_count": 3}}}
        tenants[f"client-{i:03d}"] = tenant
    units: dict[str, Any] = {"t-db": {"module": "data/rds", "per_tenant": True}}
    for k in range(shape.units - 1):
        spec = _service(k, "services/ecs-service")
        spec["per_tenant"] = True
        spec["dependencies"] = {"database": {"unit": "t-db"}}
        units[f"t-svc-{k:03d}"] = spec
    head, _, rest = text.partition("\nunits:\n")
    block = dump({"tenants": tenants}).rstrip("\n")
    extra = dump({"units": units}).split("\n", 1)[1]
    return f"{head}\n{block}\nunits:\n{rest.rstrip(chr(10))}\n{extra}"


def write_tenants_project(shape: TenantShape, root: Path) -> Path:
    """Write the tenants project for *shape* under *root*; returns its environments.yaml."""
    config = write_project(shape.base, root)
    config.write_text(tenants_yaml(shape), encoding="utf-8")
    return config

"""Every path of the output tree has one owner: layout.py."""

from __future__ import annotations

from generator import api
from generator.project import layout
from generator.project.layout import Scope

from ..conftest import REPO


def test_the_paths_of_the_tree() -> None:
    assert layout.env_file("dev") == "environments/dev/env.hcl"
    assert layout.region_file("dev", "us-east-1") == "environments/dev/us-east-1/region.hcl"
    directory = layout.unit_directory("dev", "us-east-1", "01-network", "vpc")
    assert layout.unit_file(directory) == "environments/dev/us-east-1/01-network/vpc/terragrunt.hcl"
    assert layout.envcommon_file("networking", "vpc") == "_envcommon/networking/vpc.hcl"
    assert layout.relative_path("environments/dev/a/x/u", "environments/dev/b/y/v") == "../../../a/x/u"


def test_which_environment_owns_a_path() -> None:
    assert layout.environment_of("environments/dev/env.hcl") == "dev"
    assert layout.environment_of("_envcommon/networking/vpc.hcl") is None
    assert layout.environment_of(layout.ROOT) is None


def test_the_model_and_the_plan_use_the_layout() -> None:
    planned = api.plan(api.load(REPO / "environments.yaml"))
    paths = {f.path for f in planned.files}
    assert layout.ROOT in paths
    for unit in planned.project.units:
        assert layout.unit_file(unit.directory) in paths
        assert unit.module.envcommon_path in paths
        assert layout.region_file(unit.environment.name, unit.region.name) in paths


def test_what_a_scoped_render_may_prune() -> None:
    everything, dev, dev_east = Scope(), Scope(("dev",)), Scope(("dev",), ("us-east-1",))
    shared, env_file, leaf = layout.ROOT, layout.env_file("dev"), "environments/dev/us-east-1/l/u/terragrunt.hcl"
    assert everything.may_prune(shared) and everything.may_prune(env_file) and everything.may_prune(leaf)
    assert not dev.may_prune(shared) and dev.may_prune(env_file) and dev.may_prune(leaf)
    assert not dev_east.may_prune(env_file) and dev_east.may_prune(leaf)
    assert not dev_east.may_prune("environments/dev/eu-west-1/l/u/terragrunt.hcl")
    assert not Scope(("prod",)).may_prune(leaf)

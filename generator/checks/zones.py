"""Zone suffixes against the zones their region really has."""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import Diagnostic
from .base import Context, rule

#: The availability-zone letters of AWS regions (us-east-1a ... us-east-1f). A region
#: that is not listed here (a new one, or one added with aws_regions) is not checked.
#: Some accounts see fewer zones of a region; none sees a letter outside these.
ZONES: dict[str, str] = {
    "af-south-1": "abc",
    "ap-east-1": "abc",
    "ap-northeast-1": "acd",
    "ap-northeast-2": "abcd",
    "ap-northeast-3": "abc",
    "ap-south-1": "abc",
    "ap-south-2": "abc",
    "ap-southeast-1": "abc",
    "ap-southeast-2": "abc",
    "ap-southeast-3": "abc",
    "ap-southeast-4": "abc",
    "ca-central-1": "abd",
    "ca-west-1": "abc",
    "cn-north-1": "abd",
    "cn-northwest-1": "abc",
    "eu-central-1": "abc",
    "eu-central-2": "abc",
    "eu-north-1": "abc",
    "eu-south-1": "abc",
    "eu-south-2": "abc",
    "eu-west-1": "abc",
    "eu-west-2": "abc",
    "eu-west-3": "abc",
    "il-central-1": "abc",
    "me-central-1": "abc",
    "me-south-1": "abc",
    "sa-east-1": "abc",
    "us-east-1": "abcdef",
    "us-east-2": "abc",
    "us-gov-east-1": "abc",
    "us-gov-west-1": "abc",
    "us-west-1": "abc",
    "us-west-2": "abcd",
}


@rule
def zones_exist_in_region(ctx: Context) -> Iterator[Diagnostic]:
    for env in ctx.project.environments:
        for region in env.regions:
            letters = ZONES.get(region.name)
            if letters is None:
                continue
            for i, suffix in enumerate(region.azs):
                if isinstance(suffix, str) and len(suffix) == 1 and suffix.isalpha() and suffix not in letters:
                    yield ctx.error(
                        (*region.path, "azs", i),
                        f"zone '{suffix}' ({region.name}{suffix}) does not exist: {region.name} has zones "
                        + ", ".join(letters),
                        "zone-unknown",
                        f"use one of {', '.join(letters)}",
                    )

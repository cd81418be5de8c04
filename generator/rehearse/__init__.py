"""``tfgen rehearse``: render the project into a scratch directory and run it for real
with Terragrunt and OpenTofu against local stand-ins for AWS (a local S3 for state,
stand-in modules from the catalog, a stand-in AWS provider), then report what held."""

from .run import Options, Report, rehearse

__all__ = ["Options", "Report", "rehearse"]

"""Reading the rehearsal's state store (the local S3, and DynamoDB for lock tables)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


class StateStore:
    """The local server as each account sees it: the default one of the dummy
    credentials, and that of every role the environments assume (moto keeps one
    set of buckets and tables per account, as AWS does)."""

    def __init__(self, endpoint: str, certificate: Path, region: str) -> None:
        self.endpoint, self.verify, self.region = endpoint, str(certificate), region
        self._sessions: dict[str | None, Any] = {}
        self.s3 = self.client("s3")
        self.dynamodb = self.client("dynamodb")

    def _session(self, role_arn: str | None) -> Any:
        import boto3  # installed with moto (the rehearse extra); tfgen itself never needs it

        if role_arn not in self._sessions:
            if role_arn is None:
                keys = {"aws_access_key_id": "rehearsal", "aws_secret_access_key": "rehearsal"}
            else:
                sts = self.client("sts")
                found = sts.assume_role(RoleArn=role_arn, RoleSessionName="tfgen-rehearse")["Credentials"]
                keys = {
                    "aws_access_key_id": found["AccessKeyId"],
                    "aws_secret_access_key": found["SecretAccessKey"],
                    "aws_session_token": found["SessionToken"],
                }
            self._sessions[role_arn] = boto3.session.Session(region_name=self.region, **keys)
        return self._sessions[role_arn]

    def client(self, service: str, role_arn: str | None = None, region: str | None = None) -> Any:
        session = self._session(role_arn)
        region = region or self.region
        return session.client(service, endpoint_url=self.endpoint, verify=self.verify, region_name=region)

    def location(self, bucket: str) -> str:
        """The region a bucket was created in."""
        found = self.s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")
        return str(found) if found else "us-east-1"

    def account(self, role_arn: str | None = None) -> str:
        return str(self.client("sts", role_arn).get_caller_identity()["Account"])

    def buckets(self, role_arn: str | None = None) -> list[str]:
        return sorted(b["Name"] for b in self.client("s3", role_arn).list_buckets().get("Buckets", []))

    def read(self, bucket: str, key: str) -> dict[str, Any] | None:
        try:
            body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception:
            return None
        data = json.loads(body)
        return data if isinstance(data, dict) else None

    def read_unit(self, url: str) -> dict[str, Any] | None:
        """The state at ``s3://bucket/key`` (as recorded in a unit's result)."""
        if not url.startswith("s3://"):
            return None
        bucket, _, key = url[len("s3://") :].partition("/")
        return self.read(bucket, key)

    def objects(self, roles: Sequence[str | None] = (None,)) -> list[str]:
        found: set[str] = set()
        for role in roles:
            s3 = self.client("s3", role)
            for bucket in self.buckets(role):
                for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                    found.update(f"s3://{bucket}/{o['Key']}" for o in page.get("Contents", []))
        return sorted(found)

    @staticmethod
    def _instances(state: Mapping[str, Any], address: str) -> list[dict[str, Any]]:
        kind, _, name = address.partition(".")
        found: list[dict[str, Any]] = []
        for resource in state.get("resources", []):
            if resource.get("type") == kind and resource.get("name") == name and resource.get("mode") == "managed":
                found += resource.get("instances", [])
        return found

    def has_resource(self, state: Mapping[str, Any], address: str) -> bool:
        return bool(self._instances(state, address))

    def resource_input(self, state: Mapping[str, Any], address: str) -> Any:
        instances = self._instances(state, address)
        if not instances:
            return None
        value = instances[0].get("attributes", {}).get("input")
        return value.get("value") if isinstance(value, dict) and "value" in value else value

    @staticmethod
    def outputs(state: Mapping[str, Any]) -> dict[str, Any]:
        return {name: o.get("value") for name, o in (state.get("outputs") or {}).items()}

    def lock_check(
        self,
        state: Mapping[str, Any],
        server_log: Path,
        places: Sequence[tuple[str | None, str]] = (),
    ) -> tuple[str, str]:
        """*places*: the (role, region) pairs the tree keeps state in."""
        """(what the locks show, a problem or ""): locks were taken and none is left."""
        if state.get("lock") != "dynamodb":
            try:
                log = server_log.read_text(encoding="utf-8", errors="replace")
            except OSError:
                log = ""
            taken = sum(1 for line in log.splitlines() if '"PUT ' in line and ".tflock" in line)
            note = f"locking: S3 lock files (use_lockfile): {taken} locks taken"
            return note, "" if taken else "no S3 lock file was ever written: use_lockfile did not lock"
        table = str(state.get("dynamodb_table", ""))
        items = []
        for role, region in places or [(None, self.region)]:
            try:
                items += self.client("dynamodb", role, region).scan(TableName=table).get("Items", [])
            except Exception as exc:  # ResourceNotFoundException: not bootstrapped
                problem = f"the lock table {table} of {self.account(role)}/{region} is not readable: {exc}"
                return f"locking: DynamoDB table {table}", problem
        held = [i for i in items if not str(i.get("LockID", {}).get("S", "")).endswith("-md5")]
        digests = len(items) - len(held)
        where = f" in each of {len(places)} account/region pairs" if len(places) > 1 else ""
        note = f"locking: DynamoDB table {table}{where} (bootstrapped by Terragrunt), {digests} state digests"
        problem = f"{len(held)} locks are still held in {table}" if held else ""
        if not digests:
            problem = problem or f"the lock table {table} holds no state digests: it was not used"
        return note, problem

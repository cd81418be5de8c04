"""Reading the rehearsal's state store (the local S3, and DynamoDB for lock tables)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3  # installed with moto (the rehearse extra)


class StateStore:
    def __init__(self, endpoint: str, certificate: Path, region: str) -> None:
        session = boto3.session.Session(
            aws_access_key_id="rehearsal", aws_secret_access_key="rehearsal", region_name=region
        )
        self.s3 = session.client("s3", endpoint_url=endpoint, verify=str(certificate))
        self.dynamodb = session.client("dynamodb", endpoint_url=endpoint, verify=str(certificate))

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

    def objects(self) -> list[str]:
        found = []
        for bucket in sorted(b["Name"] for b in self.s3.list_buckets().get("Buckets", [])):
            pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for page in pages:
                found += [f"s3://{bucket}/{o['Key']}" for o in page.get("Contents", [])]
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

    def lock_check(self, state: Mapping[str, Any], server_log: Path) -> tuple[str, str]:
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
        try:
            items = self.dynamodb.scan(TableName=table).get("Items", [])
        except Exception as exc:  # ResourceNotFoundException: not bootstrapped
            return f"locking: DynamoDB table {table}", f"the lock table {table} is not readable: {exc}"
        held = [i for i in items if not str(i.get("LockID", {}).get("S", "")).endswith("-md5")]
        digests = len(items) - len(held)
        note = f"locking: DynamoDB table {table} (bootstrapped by Terragrunt), {digests} state digests"
        problem = f"{len(held)} locks are still held in {table}" if held else ""
        if not digests:
            problem = problem or f"the lock table {table} holds no state digests: it was not used"
        return note, problem

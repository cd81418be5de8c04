"""``python -m generator.rehearse._local_s3 ARGS``: moto's server (its arguments),
serving TLS only, with ``aws:SecureTransport`` true in bucket policy conditions.

moto evaluates bucket policies, but with no condition keys, and a statement whose
condition does not hold denies instead of not applying; so the ``EnforcedTLS`` policy
Terragrunt puts on every state bucket it bootstraps (deny when aws:SecureTransport is
false) would deny every request. The rehearsal serves TLS only: here aws:SecureTransport
is true for every request, as on AWS over HTTPS, and a statement applies only when its
conditions hold.

moto's DynamoDB also ignores ``SSESpecification`` in UpdateTable, which AWS applies: the
call Terragrunt's bootstrap makes to encrypt a lock table
(``enable_lock_table_ssencryption``), after which it waits for DescribeTable to report
the encryption. Here UpdateTable applies it, with the account's default DynamoDB key.
"""

from __future__ import annotations

import json
from typing import Any

#: Condition keys of every request the rehearsal's local S3 serves.
REQUEST = {"aws:SecureTransport": "true"}


def _holds(operator: str, values: dict[str, Any]) -> bool:
    """Whether one condition operator holds for REQUEST (unknown operators and keys: no)."""
    for key, expected in values.items():
        wanted = {str(w).lower() for w in (expected if isinstance(expected, list) else [expected])}
        actual = REQUEST.get(key)
        if operator not in ("Bool", "StringEquals") or actual is None or actual.lower() not in wanted:
            return False
    return True


def applicable(policy: dict[str, Any]) -> dict[str, Any]:
    """*policy* with the statements whose conditions do not hold left out, and the
    conditions of the others dropped (moto denies when a condition does not hold)."""
    statements = policy.get("Statement", [])
    kept = []
    for statement in statements if isinstance(statements, list) else [statements]:
        condition = statement.get("Condition") or {}
        if all(_holds(operator, values) for operator, values in condition.items()):
            kept.append({k: v for k, v in statement.items() if k != "Condition"})
    return {**policy, "Statement": kept}


def _patch() -> None:
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3 import models

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        policy = applicable(json.loads(self.policy.decode()))
        return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)

    setattr(models.FakeBucket, "get_permission", get_permission)  # noqa: B010 - a patch
    _patch_update_table()


def _patch_update_table() -> None:
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.update_table

    def update_table(self: Any) -> Any:
        spec = self.body.get("SSESpecification")
        if spec is not None:
            table = self.dynamodb_backend.get_table(self.body["TableName"])
            if spec.get("Enabled") is False:
                table.sse_specification = None
            else:
                key = spec.get("KMSMasterKeyId") or table._get_default_encryption_key(
                    table.account_id, table.region_name
                )
                table.sse_specification = {**spec, "Enabled": True, "KMSMasterKeyId": key}
        return original(self)

    setattr(DynamoHandler, "update_table", update_table)  # noqa: B010 - a patch


if __name__ == "__main__":
    _patch()
    from moto.server import main

    main()

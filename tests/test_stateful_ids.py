"""Construct IDs are a contract: these are prod's stateful resources, by logical id.

A construct-ID rename makes Terraform destroy the resource and create a new one, losing its data.
This list changes only on purpose: adding a stateful resource adds a line; renaming or removing one
needs a migration (``terraform state mv`` or a ``moved`` block) and a reviewer's eyes, and
`make review` flags it too.
"""

from __future__ import annotations

from tests.synth import Json
from tools.review import STATEFUL_TYPES

PROD_STATEFUL = {
    "aws_cloudwatch_log_group": [
        "cache_slow-log_31146A07",
        "database_instance-logs-postgresql_0A15FDB6",
        "database_instance-logs-upgrade_541028F5",
        "database_replica-logs-postgresql_24A7B430",
        "database_replica-logs-upgrade_A24D5534",
        "job-migrate-movies_logs_AEB49621",
        "job-purge-sessions_logs_A857F137",
        "network_flow-logs_D7C94307",
        "service-customer-service_logs_A27DBCAF",
        "service-movie-service_logs_220B1FD8",
        "waf-alb_logs_0754555B",
        "waf-cloudfront_logs_28066209",
    ],
    "aws_db_instance": ["database_instance_D7FC2283", "database_replica_BC881514"],
    "aws_ecr_repository": [
        "repository-customer-service_repository_5ADE7F8A",
        "repository-movie-service_repository_5735B956",
    ],
    "aws_elasticache_replication_group": ["cache_replication-group_FA5C54CF"],
    "aws_kms_key": ["kms_key_28C05A0F", "monitoring_key_BA5080B2"],
    "aws_s3_bucket": ["frontend_logs_99D0A82E", "frontend_site_8D00F668", "load-balancer_logs_F0AED49D"],
    "aws_secretsmanager_secret": ["cache_auth-token_3D7C467C"],
    "aws_sqs_queue": ["job-purge-sessions_dead-letter-queue_DDC4A9C3"],
}


def test_prod_stateful_resources_keep_their_logical_ids(synthesized: dict[str, Json]) -> None:
    resources = synthesized["prod"]["resource"]
    found = {t: sorted(resources[t]) for t in sorted(STATEFUL_TYPES) if resources.get(t)}
    assert found == PROD_STATEFUL

"""moto's server mode with the harness's runtime patches, and a log of every request it failed.

Runs inside ``.venv-emulator`` (moto is not a dependency of the project's own virtualenv):

    .venv-emulator/bin/python -m tools.emulator_server --port PORT --error-log FILE

Each patch fixes a moto *bug* (behaviour that contradicts AWS and moto's own model), never a missing
API: gaps are listed in ``emulator-gaps.toml`` and left alone. Every patch is named in that file's
``[[patch]]`` entries with its reason and moto source reference; the harness fails when the two lists
disagree (``PATCHES`` below is what it compares against).

The error log has one JSON line per response with status >= 400: method, path, the API operation
(from ``X-Amz-Target`` or the query ``Action``), status, and the first bytes of the response; and one
line, marked ``"replayed": true``, per answer sent again because the client lost it (``ErrorLog``).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import string
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

Patch = Callable[[], None]
PATCHES: dict[str, Patch] = {}
"""Every runtime patch by name (``serialize-requests`` is ErrorLog's lock, registered below)."""


def patch(name: str) -> Callable[[Patch], Patch]:
    def register(function: Patch) -> Patch:
        PATCHES[name] = function
        return function

    return register


@patch("s3-logging-policy-shapes")
def _s3_logging_policy() -> None:
    """PutBucketLogging checks the target bucket's policy with string comparisons only
    (moto/s3/models.py FakeBucket._log_permissions_enabled_policy): a statement whose Principal is the
    string "*" crashes it (500, retried until the waiter gives up), and a Resource, Action or service
    Principal given as a list (valid IAM, and what this project writes) never matches, so it answers
    InvalidTargetBucketForLogging. Check the same rule with IAM's shapes."""
    from moto.s3 import models

    def as_list(value: Any) -> list[Any]:
        return list(value) if isinstance(value, list) else [value]

    def permitted(target_bucket: Any, target_prefix: str | None) -> bool:
        if not target_bucket.policy:
            return False
        base = f"arn:{target_bucket.partition}:s3:::{target_bucket.name}"
        allowed = {f"{base}/{target_prefix or ''}*", f"{base}/*", base}
        for statement in json.loads(target_bucket.policy.decode()).get("Statement", []):
            principal = statement.get("Principal", {})
            services = as_list(principal.get("Service", [])) if isinstance(principal, dict) else []
            if (
                models.LOGGING_SERVICE_PRINCIPAL in services
                and statement.get("Effect") == "Allow"
                and "s3:PutObject" in as_list(statement.get("Action", []))
                and allowed & set(as_list(statement.get("Resource", [])))
            ):
                return True
        return False

    models.FakeBucket._log_permissions_enabled_policy = staticmethod(permitted)


@patch("kms-replica-key-own-state")
def _kms_replica_state() -> None:
    """ReplicateKey stores a shallow ``copy()`` of the primary (moto/kms/models.py
    KmsBackend.replicate_key): the replica shares the primary's multi-Region configuration (reporting
    itself as PRIMARY), its aliases (so creating the replica's alias fails: AlreadyExists) and grants. And moto/kms/responses.py KmsResponse.replicate_key drops the request's
    Policy, Description and Tags, so the provider waits for a policy that never arrives. Give the
    replica its own configuration (MultiRegionKeyType REPLICA) and what the request asked for."""
    from copy import deepcopy

    from moto.kms import models, responses

    original = models.KmsBackend.replicate_key

    def replicate_key(self: Any, key_id: str, replica_region: str) -> Any:
        replica = original(self, key_id, replica_region)
        primary = self.keys[self.get_key_id(key_id)]
        configuration = deepcopy(primary.multi_region_configuration)
        replica.multi_region_configuration = {**configuration, "MultiRegionKeyType": "REPLICA"}
        primary.multi_region_configuration = configuration
        # Aliases and grants are per key and region: the replica starts with none.
        replica.aliases = {}
        replica.grants = {}
        return replica

    respond = responses.KmsResponse.replicate_key

    def replicate_key_response(self: Any) -> str:
        body = respond(self)
        metadata = json.loads(body)["ReplicaKeyMetadata"]
        backend = models.kms_backends[self.current_account][self._get_param("ReplicaRegion")]
        replica = backend.keys[metadata["KeyId"]]
        if self._get_param("Policy"):
            replica.policy = self._get_param("Policy")
        if self._get_param("Description") is not None:
            replica.description = self._get_param("Description")
        tags = {t["TagKey"]: t["TagValue"] for t in self._get_param("Tags") or []}
        if tags:
            backend.tag_resource(replica.id, tags)
        return json.dumps({"ReplicaKeyMetadata": replica.to_dict()["KeyMetadata"], "ReplicaPolicy": replica.policy})

    models.KmsBackend.replicate_key = replicate_key
    responses.KmsResponse.replicate_key = replicate_key_response


@patch("rds-unique-dbi-resource-id")
def _rds_resource_id() -> None:
    """Every DB instance gets the same DbiResourceId, ``db-M5ENSHXFPU6XHZ4G4ZEI5QIO2U``, hard-coded in
    moto/rds/models.py DBInstance.__init__, and a read replica is a ``copy.copy`` of its primary
    (RDSBackend.create_db_instance_read_replica), so it shares even that. AWS gives each instance its
    own; the provider finds an instance by it, so a replica is read back as its primary."""
    from moto.rds import models

    def new_id() -> str:
        return "db-" + "".join(random.choices(string.ascii_uppercase + string.digits, k=26))

    init = models.DBInstance.__init__

    def instance_init(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.dbi_resource_id = new_id()

    replicate = models.RDSBackend.create_db_instance_read_replica

    def create_db_instance_read_replica(self: Any, db_kwargs: dict[str, Any]) -> Any:
        replica = replicate(self, db_kwargs)
        replica.dbi_resource_id = new_id()
        return replica

    models.DBInstance.__init__ = instance_init
    models.RDSBackend.create_db_instance_read_replica = create_db_instance_read_replica


@patch("ec2-rule-description-of-group-pairs")
def _ec2_rule_description() -> None:
    """A security-group rule that references another group keeps its Description in the group pair,
    but SecurityGroupRule.description reads only the CIDR range's (moto/ec2/models/security_groups.py),
    so DescribeSecurityGroupRules loses the description of every group-to-group rule."""
    from moto.ec2.models import security_groups

    def description(self: Any) -> str | None:
        found = self.ip_range.get("Description") or self.source_group.get("Description")
        return str(found) if found is not None else None

    security_groups.SecurityGroupRule.description = property(description)


@patch("elasticache-replication-group-members")
def _elasticache_members() -> None:
    """CreateReplicationGroup lists MemberClusters (``<group>-001``...) that DescribeCacheClusters
    does not know (moto/elasticache/models.py ReplicationGroup.__init__ fills ``member_clusters``
    without creating CacheCluster objects), and DeleteReplicationGroup leaves the group "deleting"
    forever (delete_replication_group only sets the status). Create the member clusters with the
    group, and remove group and members on delete, as AWS does once deletion completes."""
    from moto.elasticache import models

    create = models.ElastiCacheBackend.create_replication_group
    delete = models.ElastiCacheBackend.delete_replication_group

    def create_replication_group(self: Any, *args: Any, **kwargs: Any) -> Any:
        group = create(self, *args, **kwargs)
        for index, member in enumerate(group.member_clusters):
            if member in self.cache_clusters:
                continue
            self.cache_clusters[member] = models.CacheCluster(
                account_id=self.account_id,
                region_name=self.region_name,
                cache_cluster_id=member,
                cache_node_type=group.cache_node_type,
                replication_group_id=group.replication_group_id,
                az_mode="single-az",
                preferred_availability_zone=None,
                num_cache_nodes=1,
                engine=group.engine,
                engine_version=group.engine_version,
                cache_parameter_group_name=kwargs.get("cache_parameter_group_name"),
                cache_subnet_group_name=kwargs.get("cache_subnet_group_name"),
                transit_encryption_enabled=group.transit_encryption_enabled,
                network_type=None,
                ip_discovery=None,
                snapshot_name=None,
                preferred_maintenance_window=kwargs.get("preferred_maintenance_window"),
                port=group.port,
                notification_topic_arn=None,
                auto_minor_version_upgrade=group.auto_minor_version_upgrade,
                snapshot_retention_limit=group.snapshot_retention_limit,
                snapshot_window=group.snapshot_window,
                auth_token=None,
                outpost_mode=None,
                preferred_outpost_arn=None,
                preferred_availability_zones=None,
                cache_security_group_names=None,
                security_group_ids=kwargs.get("security_group_ids"),
                tags=None,
                snapshot_arns=None,
                preferred_outpost_arns=None,
                log_delivery_configurations=[],
                cache_node_ids_to_remove=None,
                cache_node_ids_to_reboot=None,
            )
            self.cache_clusters[member].replication_group_id = group.replication_group_id
            self.cache_clusters[member].current_role = "primary" if index == 0 else "replica"
        return group

    def delete_replication_group(self: Any, replication_group_id: str, retain_primary_cluster: bool | None) -> Any:
        existing = self.replication_groups.get(replication_group_id)
        members = list(existing.member_clusters) if existing is not None else []
        group = delete(self, replication_group_id, retain_primary_cluster)
        for member in members:
            self.cache_clusters.pop(member, None)
        self.replication_groups.pop(replication_group_id, None)
        return group

    models.ElastiCacheBackend.create_replication_group = create_replication_group
    models.ElastiCacheBackend.delete_replication_group = delete_replication_group


@patch("application-autoscaling-tags")
def _application_autoscaling_tags() -> None:
    """A gap filled, because it breaks every read: moto/applicationautoscaling/responses.py has no
    list_tags_for_resource, tag_resource or untag_resource and register_scalable_target drops Tags, so
    the provider's read of any scalable target fails (500) and no plan of a stack with autoscaling
    can be made after it exists. Keep the tags per target ARN and answer the three calls."""
    from moto.applicationautoscaling import responses

    tags: dict[str, dict[str, str]] = {}
    register = responses.ApplicationAutoScalingResponse.register_scalable_target

    def register_scalable_target(self: Any) -> str:
        body = str(register(self))
        arn = json.loads(body)["ScalableTargetARN"]
        tags.setdefault(arn, {}).update(self._get_param("Tags") or {})
        return body

    def list_tags_for_resource(self: Any) -> str:
        return json.dumps({"Tags": tags.get(self._get_param("ResourceARN"), {})})

    def tag_resource(self: Any) -> str:
        tags.setdefault(self._get_param("ResourceARN"), {}).update(self._get_param("Tags") or {})
        return "{}"

    def untag_resource(self: Any) -> str:
        for key in self._get_param("TagKeys") or []:
            tags.get(self._get_param("ResourceARN"), {}).pop(key, None)
        return "{}"

    cls = responses.ApplicationAutoScalingResponse
    cls.register_scalable_target = register_scalable_target
    cls.list_tags_for_resource = list_tags_for_resource
    cls.tag_resource = tag_resource
    cls.untag_resource = untag_resource


@patch("elasticache-delete-cache-subnet-group")
def _elasticache_delete_subnet_group() -> None:
    """A gap filled, because it stops destroy: moto/elasticache/responses.py has no
    delete_cache_subnet_group (a 500), so destroy can remove neither the subnet group nor the
    subnets and VPC it holds on to, and the next apply of the same stack collides with it."""
    from moto.core.responses import ActionResult
    from moto.elasticache import responses

    def delete_cache_subnet_group(self: Any) -> Any:
        self.elasticache_backend.cache_subnet_groups.pop(self._get_param("CacheSubnetGroupName"), None)
        return ActionResult({})

    responses.ElastiCacheResponse.delete_cache_subnet_group = delete_cache_subnet_group


@patch("rds-user-parameter-source")
def _rds_parameter_source() -> None:
    """Parameters set with ModifyDBParameterGroup are stored exactly as the request gave them
    (moto/rds/models.py DBParameterGroup.update_parameters), so DescribeDBParameters returns them
    without ``Source``; AWS marks them ``user``, and the provider keeps only those, so it reads back
    none of the group's parameters."""
    from moto.rds import models

    update = models.DBParameterGroup.update_parameters

    def update_parameters(self: Any, new_parameters: Iterable[dict[str, Any]]) -> None:
        update(self, [{**parameter, "Source": "user"} for parameter in new_parameters])

    models.DBParameterGroup.update_parameters = update_parameters


@patch("elasticbeanstalk-application-tags")
def _elasticbeanstalk_application_tags() -> None:
    """Applications are taggable in AWS, but moto's Application has no tags: CreateApplication drops
    them and ListTagsForResource / UpdateTagsForResource look among environments only
    (moto/elasticbeanstalk/models.py EBBackend._find_environment_by_arn), so every read of an
    application fails with ResourceNotFound. Keep application tags as environments keep theirs."""
    from moto.elasticbeanstalk import models, responses

    def find(self: Any, arn: str) -> Any:
        for application in self.applications.values():
            if application.arn == arn:
                if not hasattr(application, "tags"):
                    application.tags = {}
                return application
            for environment in application.environments.values():
                if environment.environment_arn == arn:
                    return environment
        raise KeyError(arn)

    create = responses.EBResponse.create_application

    def create_application(self: Any) -> Any:
        result = create(self)
        application = self.elasticbeanstalk_backend.applications[self._get_param("ApplicationName")]
        application.tags = {tag["Key"]: tag["Value"] for tag in self._get_param("Tags", [])}
        return result

    models.EBBackend._find_environment_by_arn = find
    responses.EBResponse.create_application = create_application


@patch("sqs-set-attributes-keeps-policy")
def _sqs_keep_policy() -> None:
    """SetQueueAttributes clears the queue's Policy unless the same request sets it again: Queue._set_attributes
    (moto/sqs/models.py) ends with ``self.policy = attributes.get("Policy")``. AWS changes only the attributes a
    request names, so setting a queue's RedriveAllowPolicy after its policy left the queue without one.
    Keep the policy when the request does not name it."""
    from moto.sqs import models

    set_attributes = models.Queue._set_attributes

    def _set_attributes(self: Any, attributes: dict[str, Any], now: float | None = None) -> None:
        kept = getattr(self, "policy", None)
        set_attributes(self, attributes, now)
        if "Policy" not in attributes:
            self.policy = kept

    models.Queue._set_attributes = _set_attributes


@patch("sqs-redrive-allow-policy")
def _sqs_redrive_allow_policy() -> None:
    """A gap filled, because it breaks every read: moto stores a RedriveAllowPolicy it is given
    (Queue._set_attributes in moto/sqs/models.py sets any attribute) but never returns it, and
    GetQueueAttributes refuses the name (it is not in Queue.BASE_ATTRIBUTES: InvalidAttributeName). The
    provider waits for the policy it set to read back, then every read of the resource fails. Return it
    like every other attribute (unset: absent, as the response leaves out None values)."""
    from moto.sqs import models

    models.Queue.redrive_allow_policy = None
    models.Queue.BASE_ATTRIBUTES = [*models.Queue.BASE_ATTRIBUTES, "RedriveAllowPolicy"]
    set_attributes = models.Queue._set_attributes

    # Setting it to "" removes it (what the provider's delete does, then waits until the attribute is
    # gone: an empty string is not JSON, so a returned "" never matches).
    def _set_attributes(self: Any, attributes: dict[str, Any], now: float | None = None) -> None:
        set_attributes(self, attributes, now)
        if self.redrive_allow_policy == "":
            self.redrive_allow_policy = None

    models.Queue._set_attributes = _set_attributes


@patch("sqs-compact-redrive-policy")
def _sqs_compact_redrive_policy() -> None:
    """GetQueueAttributes returns RedrivePolicy as ``json.dumps(self.redrive_policy)`` (Queue.attributes in
    moto/sqs/models.py): with spaces after ``:`` and ``,``. SQS returns it compact, and the provider keeps the
    string it reads (aws_sqs_queue.redrive_policy has no JSON-equivalence diff suppression in 5.100), so
    every plan after an apply would update the queue. Return it compact."""
    import json

    from moto.sqs import models

    attributes = models.Queue.attributes

    def compact(self: Any) -> dict[str, Any]:
        result: dict[str, Any] = attributes.fget(self)
        if self.redrive_policy:  # a dict once set (moto/sqs/models.py Queue._setup_dlq)
            result["RedrivePolicy"] = json.dumps(self.redrive_policy, separators=(",", ":"))
        return result

    models.Queue.attributes = property(compact)


# --- the server ---------------------------------------------------------------------------------


@patch("ecs-run-task-without-container-memory")
def _ecs_container_memory() -> None:
    """RunTask adds up the containers' own memory (moto/ecs/models.py
    EC2ContainerServiceBackend._calculate_task_resource_requirements: ``+= container_definition.get(
    "memory", ...)``) and fails with a TypeError, a 500, when a container sets none. On Fargate only the
    task's memory is required (what every task definition here has), and RegisterTaskDefinition accepts
    it; and Fargate tasks are never placed by these numbers. Count such a container as 0 MiB."""
    from types import SimpleNamespace

    from moto.ecs import models

    calculate = models.EC2ContainerServiceBackend._calculate_task_resource_requirements
    own = ("memory", "memoryReservation", "Memory", "MemoryReservation")

    def requirements(task_definition: Any) -> Any:
        containers = [
            c if any(c.get(key) is not None for key in own) else {**c, "memory": 0}
            for c in task_definition.container_definitions
        ]
        return calculate(SimpleNamespace(container_definitions=containers))

    models.EC2ContainerServiceBackend._calculate_task_resource_requirements = staticmethod(requirements)


def _operation(environ: dict[str, Any], body: bytes) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return str(target).rsplit(".", 1)[-1]
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return str(query["Action"][0])
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        form = parse_qs(body.decode(errors="replace"))
        if "Action" in form:
            return str(form["Action"][0])
    return ""


SERIALIZE = "serialize-requests"
"""The name of the patch that is not a function below: ``ErrorLog`` serves one request at a time."""
REPLAY = "replay-lost-responses"
"""``ErrorLog`` answers a retry of an invocation it already answered with that answer."""
ONE_WRITE = "one-write-responses"
"""``OneWriteHandler`` sends a response's head and body in one write."""
REPLAYS_KEPT = 4096
"""Answers kept for replay: a retry follows its lost attempt within a second, far fewer requests apart."""


def _attempt(header: str) -> int:
    """The attempt number in an ``amz-sdk-request`` header (``attempt=2; max=2``); 1 when absent."""
    match = re.search(r"attempt=(\d+)", header)
    return int(match.group(1)) if match else 1


class ErrorLog:
    """WSGI middleware: serve one request at a time, replay answers a client lost, and record every
    failed request (status >= 400) as one JSON line.

    One at a time: moto's backends are not safe under its own threaded server. For example
    moto/ec2/models/security_groups.py rebuilds ``group.ingress_rules`` by read-modify-write, so two
    concurrent rule changes on one group lose one of them (a rule Terraform created vanishes, and
    its delete fails with InvalidPermission.NotFound). Terraform's waits dominate a run, not moto.

    Replay: under load on this loopback server the provider's HTTP client now and then closes its
    connection while it reads a response moto has already sent ("https response error StatusCode:
    200 ... read tcp ...: use of closed network connection"), and the SDK sends the invocation again
    (same ``amz-sdk-invocation-id``, ``amz-sdk-request: attempt=2``). Executed twice, a create or a
    delete then fails on its own first run (InvalidPermission.Duplicate, ResourceExistsException,
    InvalidPermission.NotFound) though AWS did exactly what was asked. A retry of an invocation
    already answered (status < 500) gets that answer again instead; an answer of 5xx is not kept, so
    a missing action is still asked, and refused, every time. Each replay is logged."""

    def __init__(self, app: Any, path: str) -> None:
        self.app = app
        self.file = open(path, "a", buffering=1)  # noqa: SIM115 - lives as long as the server
        self.lock = threading.Lock()
        self.answered: OrderedDict[str, tuple[str, list[tuple[str, str]], list[bytes]]] = OrderedDict()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        invocation = environ.get("HTTP_AMZ_SDK_INVOCATION_ID", "")
        seen: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            seen.update(line=status, headers=list(headers), status=int(status.split()[0]))
            return start_response(status, headers, *rest)

        with self.lock:
            if invocation in self.answered and _attempt(environ.get("HTTP_AMZ_SDK_REQUEST", "")) > 1:
                line, headers, chunks = self.answered[invocation]
                start_response(line, headers)
                self._record(environ, body, int(line.split()[0]), "replayed: the client lost this answer", True)
                return chunks
            try:
                chunks = list(self.app(environ, capture))
            except Exception as error:  # moto raises NotImplementedError for an action it lacks
                self._record(environ, body, 500, f"{type(error).__name__}: {error}")
                raise
            if invocation and seen.get("status", 500) < 500:
                self.answered[invocation] = (seen["line"], seen["headers"], chunks)
                if len(self.answered) > REPLAYS_KEPT:
                    self.answered.popitem(last=False)
        if seen.get("status", 200) >= 400:
            self._record(environ, body, seen["status"], b"".join(chunks)[:300].decode(errors="replace"))
        return chunks

    def _record(self, environ: dict[str, Any], body: bytes, status: int, response: str, replayed: bool = False) -> None:
        record = {
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "operation": _operation(environ, body),
            "status": status,
            "response": response,
        }
        if replayed:
            record["replayed"] = True
        self.file.write(json.dumps(record) + "\n")


PATCHES[SERIALIZE] = lambda: None  # applied by ErrorLog itself
PATCHES[REPLAY] = lambda: None  # applied by ErrorLog itself
PATCHES[ONE_WRITE] = lambda: None  # applied by main's request handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--error-log", required=True)
    args = parser.parse_args(argv)

    for apply_patch in PATCHES.values():
        apply_patch()

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import run_simple

    class OneWriteHandler(MotoRequestHandler):  # type: ignore[misc]  # moto: not in the venv mypy checks with
        """werkzeug writes a response's head and body with one unbuffered send each
        (werkzeug/serving.py WSGIRequestHandler.run_wsgi write(); socketserver's wbufsize 0), and
        under load the server thread can wait between the two. That gap is where the provider's
        client loses answers (see ErrorLog). Measured with one attempt per request (max_retries 1), one
        full e2e run each: 12 requests lost their answer with two sends, 1 with one. Buffered, both go
        out in the flush that ends write()."""

        wbufsize = 1 << 16

    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        args.host,
        args.port,
        ErrorLog(app, args.error_log),
        threaded=True,
        request_handler=OneWriteHandler,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

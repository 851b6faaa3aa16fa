"""moto's server, with DynamoDB's per-item atomicity.

Real DynamoDB applies each write to an item atomically: N concurrent
`UpdateItem ... ADD n :one` calls add exactly N, and a conditional write is
checked and applied in one step. moto's threaded server runs each request in
its own thread and its DynamoDB backend reads, checks and writes an item with
no lock, so concurrent writers can lose an update (measured: 119 of 120
concurrent ADDs landed). The breaker and the duplicate-request markers rely on
that atomicity, so the emulator must have it too: every DynamoDB item
operation here runs under one lock, and answers with a snapshot.

moto's CloudFormation also lacks what a release needs: AWS::Lambda::Alias is
not implemented (a reference to one resolves to nothing, so the stack's event
source mapping fails), and AWS::Lambda::Version has no Ref or GetAtt and
ignores CodeSha256 and replacement. Both are added below on moto's own Lambda
backend, as CloudFormation's handlers do it: a Version publishes (checking
CodeSha256 as PublishVersion does) and is published again when its properties
change (CloudFormation replaces a Version); an Alias is CreateAlias,
UpdateAlias and DeleteAlias. So `lambda get-alias` against the emulator shows
what a deploy released. And an executed change set keeps its parameters as
the stack's (moto kept the create's, so a change set back to them, a
rollback, looked like "no changes"). Traffic shifting (UpdatePolicy, CodeDeploy) is not
emulated: the local stage releases all at once.

Everything else is moto's own server (same arguments: -H HOST -p PORT ...).
"""

import copy
import functools
import importlib.abc
import importlib.machinery
import sys
import threading

from moto.server import main

# Each patch below runs right after moto imports the module it patches, not
# here: moto imports a service's models on that service's first request, and
# CloudFormation's pull in most of moto (about 1.2 s of a 1.6 s start). Most
# test processes never call CloudFormation, and each starts its own server.
_AFTER_IMPORT = {}


def _after_import(module_name):
    def register(patch):
        _AFTER_IMPORT[module_name] = patch
        return patch
    return register


class _PatchAfterImport(importlib.abc.MetaPathFinder):
    """Finds a patched module as the standard finder does, and patches it once loaded."""

    def find_spec(self, name, path, target=None):
        patch = _AFTER_IMPORT.get(name)
        if patch is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            patch(module)

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _PatchAfterImport())

_LOCK = threading.RLock()


@_after_import("moto.dynamodb.models")
def _atomic_dynamodb(models):
    for name in (
        "put_item", "get_item", "update_item", "delete_item", "query", "scan",
        "transact_write_items", "transact_get_items", "batch_write_item", "batch_get_item",
    ):
        original = getattr(models.DynamoDBBackend, name)

        @functools.wraps(original)
        def atomic(self, *args, _original=original, **kwargs):
            with _LOCK:
                # A copy: moto's response layer reads the returned item after the
                # lock is gone, when another write may be changing it in place.
                return copy.deepcopy(_original(self, *args, **kwargs))

        setattr(models.DynamoDBBackend, name, atomic)


# --- CloudFormation: an executed change set's parameters are the stack's -----------

@_after_import("moto.cloudformation.models")
def _change_sets_keep_parameters(models):
    apply = models.ChangeSet.apply

    def apply_and_keep_parameters(self):
        apply(self)
        self.stack.parameters = self.parameters

    models.ChangeSet.apply = apply_and_keep_parameters


# --- CloudFormation: AWS::Lambda::Version and AWS::Lambda::Alias -------------------

# moto's Lambda models, set when moto imports them (_lambda_versions_and_aliases).
lambda_backends = LambdaVersion = PreconditionFailedException = None

def _publish(properties, account_id, region_name):
    backend = lambda_backends[account_id][region_name]
    name = properties["FunctionName"]
    wanted = properties.get("CodeSha256")
    current = backend.get_function(name).code_sha_256
    if wanted and wanted != current:
        raise PreconditionFailedException(
            f"CodeSha256 ({wanted}) does not match the function's code ({current})"
        )
    fn = backend.publish_version(name, properties.get("Description", ""))
    version = LambdaVersion({"Version": fn.version})
    version.arn = fn.function_arn
    return version


def _version_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    return _publish(cloudformation_json["Properties"], account_id, region_name)


def _version_update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
    # Every property of a Version is create-only: a change is a replacement, a new
    # version. CloudFormation then updates what refers to it (the alias's
    # FunctionVersion: !GetAtt ...Version); moto's diff of the template text cannot
    # see that, so the function's aliases on the replaced version move here.
    properties = cloudformation_json["Properties"]
    version = _publish(properties, account_id, region_name)
    backend = lambda_backends[account_id][region_name]
    for alias in backend.list_aliases(properties["FunctionName"]):
        if str(alias.function_version) == str(original_resource.version):
            alias.update(None, str(version.version), None)
    return version


def _version_attribute(self, attribute_name):
    if attribute_name == "Version":
        return str(self.version)
    raise NotImplementedError(attribute_name)


@_after_import("moto.awslambda.models")
def _lambda_versions_and_aliases(models):
    # Global, LambdaAliasResource too: moto finds models by __subclasses__(), which holds no reference.
    global lambda_backends, LambdaVersion, PreconditionFailedException, LambdaAliasResource
    from moto.awslambda.exceptions import PreconditionFailedException
    from moto.core.common_models import CloudFormationModel

    lambda_backends, LambdaVersion = models.lambda_backends, models.LambdaVersion
    LambdaVersion.create_from_cloudformation_json = classmethod(_version_create)
    LambdaVersion.update_from_cloudformation_json = classmethod(_version_update)
    LambdaVersion.physical_resource_id = property(lambda self: self.arn)
    LambdaVersion.has_cfn_attr = classmethod(lambda cls, attr: attr == "Version")
    LambdaVersion.get_cfn_attribute = _version_attribute

    class LambdaAliasResource(CloudFormationModel):
        """AWS::Lambda::Alias on moto's Lambda backend; Ref is the alias ARN."""

        # moto's model registry files a model under the service its module names.
        __module__ = "moto.awslambda.models"

        def __init__(self, alias, function_name):
            self.alias = alias
            self.function_name = function_name

        @staticmethod
        def cloudformation_type():
            return "AWS::Lambda::Alias"

        @staticmethod
        def cloudformation_name_type():
            return "Name"

        @property
        def physical_resource_id(self):
            return self.alias.arn

        @classmethod
        def _apply(cls, operation, cloudformation_json, account_id, region_name):
            """CreateAlias or UpdateAlias with the resource's properties."""
            p = cloudformation_json["Properties"]
            alias = getattr(lambda_backends[account_id][region_name], operation)(
                name=p["Name"],
                function_name=p["FunctionName"],
                function_version=p["FunctionVersion"],
                description=p.get("Description", ""),
                routing_config=p.get("RoutingConfig"),
            )
            return cls(alias, p["FunctionName"])

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
            return cls._apply("create_alias", cloudformation_json, account_id, region_name)

        @classmethod
        def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
            return cls._apply("update_alias", cloudformation_json, account_id, region_name)

        def delete(self, account_id, region_name):
            backend = lambda_backends[account_id][region_name]
            try:
                backend.delete_alias(self.alias.name, self.function_name)
            except Exception:  # the function is gone already, and its aliases with it
                pass


if __name__ == "__main__":
    sys.exit(main())

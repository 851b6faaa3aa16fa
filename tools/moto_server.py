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
import sys
import threading

from moto.awslambda.exceptions import PreconditionFailedException
from moto.awslambda.models import LambdaVersion, lambda_backends
from moto.cloudformation.models import ChangeSet
from moto.core.common_models import CloudFormationModel
from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

_LOCK = threading.RLock()

for _name in (
    "put_item", "get_item", "update_item", "delete_item", "query", "scan",
    "transact_write_items", "transact_get_items", "batch_write_item", "batch_get_item",
):
    _original = getattr(DynamoDBBackend, _name)

    @functools.wraps(_original)
    def _atomic(self, *args, _original=_original, **kwargs):
        with _LOCK:
            # A copy: moto's response layer reads the returned item after the
            # lock is gone, when another write may be changing it in place.
            return copy.deepcopy(_original(self, *args, **kwargs))

    setattr(DynamoDBBackend, _name, _atomic)


# --- CloudFormation: an executed change set's parameters are the stack's -----------

_apply_change_set = ChangeSet.apply


def _apply_and_keep_parameters(self):
    _apply_change_set(self)
    self.stack.parameters = self.parameters


ChangeSet.apply = _apply_and_keep_parameters


# --- CloudFormation: AWS::Lambda::Version and AWS::Lambda::Alias -------------------

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
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = cloudformation_json["Properties"]
        alias = lambda_backends[account_id][region_name].create_alias(
            name=p["Name"],
            function_name=p["FunctionName"],
            function_version=p["FunctionVersion"],
            description=p.get("Description", ""),
            routing_config=p.get("RoutingConfig"),
        )
        return cls(alias, p["FunctionName"])

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        p = cloudformation_json["Properties"]
        alias = lambda_backends[account_id][region_name].update_alias(
            name=p["Name"],
            function_name=p["FunctionName"],
            function_version=p["FunctionVersion"],
            description=p.get("Description", ""),
            routing_config=p.get("RoutingConfig"),
        )
        return cls(alias, p["FunctionName"])

    def delete(self, account_id, region_name):
        backend = lambda_backends[account_id][region_name]
        try:
            backend.delete_alias(self.alias.name, self.function_name)
        except Exception:  # the function is gone already, and its aliases with it
            pass


if __name__ == "__main__":
    sys.exit(main())

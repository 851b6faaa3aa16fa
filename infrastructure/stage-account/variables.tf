# Inputs of a stage account. terraform.tfvars.example shows a full set.

variable "aws_region" {
  description = "Region of the stage's stack: the `region` of stages/<stage>.yaml, and the tooling account's region (the artifact bucket's)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2,4}(-[a-z]+)+-[0-9]+$", var.aws_region))
    error_message = "aws_region must be an AWS region name such as eu-west-1."
  }
}

variable "stage" {
  description = "The stage this account runs: dev, staging or prod."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.stage)
    error_message = "stage must be dev, staging or prod."
  }
}

variable "tooling_account_id" {
  description = "The account of the pipeline, the artifact bucket and the CodeBuild projects (where infrastructure/ is applied). Its CodeBuild deploy role of this stage is the one principal the deploy role trusts."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.tooling_account_id))
    error_message = "tooling_account_id must be the 12 digits of an AWS account id."
  }
}

variable "artifact_bucket_name" {
  description = "The tooling account's artifact bucket (its output artifact_bucket). Null (the default) is the tooling root's default name, countries-artifacts-<tooling account>-<region>."
  type        = string
  default     = null

  validation {
    condition     = var.artifact_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,56}[a-z0-9]$", var.artifact_bucket_name))
    error_message = "artifact_bucket_name must be null or a valid S3 bucket name."
  }
}

variable "external_ids" {
  description = "External ids the deploy and reader roles require (sts:ExternalId), as the stage file's external_id gives them to the deployer. Two during a rotation (the old and the new one, docs/delivery.md); empty for none."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.external_ids) <= 2 && alltrue([for id in var.external_ids : length(id) >= 2 && length(id) <= 1224 && can(regex("^[A-Za-z0-9+=,.@:/-]+$", id))])
    error_message = "external_ids holds at most two ids (the current one and, during a rotation, the next), each 2-1224 characters of letters, digits and + = , . @ : / -."
  }
}

variable "organization_id" {
  description = "When set (o-...), the deploy and reader roles may only be assumed by principals of this AWS Organization (aws:PrincipalOrgID), in addition to naming them."
  type        = string
  default     = null

  validation {
    condition     = var.organization_id == null || can(regex("^o-[a-z0-9]{10,32}$", var.organization_id))
    error_message = "organization_id must be null or an AWS Organizations id such as o-a1b2c3d4e5."
  }
}

variable "operator_role_arns" {
  description = "Roles of people who may also assume the deploy and reader roles (deployer commands by hand: status, logs, a rollback), each named exactly. Empty (the default): only the tooling account's CodeBuild deploy role can."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.operator_role_arns : can(regex("^arn:[a-z-]+:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$", arn))])
    error_message = "operator_role_arns must each be one role's ARN, arn:<partition>:iam::<account>:role/<name>: no wildcards, users or accounts."
  }
}

variable "allow_stack_deletion" {
  description = "When true, the deploy role may delete the stage's stack (`deployer down <stage>`; tables are retained). The pipeline never deletes a stack: leave it false except while taking the stage down."
  type        = bool
  default     = false
}

variable "enforce_function_permissions_boundary" {
  description = "When true, the execution role may only create or change function roles that carry countries-<stage>-function-boundary (as in infrastructure/)."
  type        = bool
  default     = false
}

variable "upstream_api_key_parameter_path" {
  description = "SSM Parameter Store path under which this account keeps the REST Countries v5 API key (SecureString); the function boundary lets functions read below it."
  type        = string
  default     = "/countries/"

  validation {
    condition     = can(regex("^/([A-Za-z0-9_.-]+/)+$", var.upstream_api_key_parameter_path))
    error_message = "upstream_api_key_parameter_path must start and end with '/', e.g. /countries/."
  }
}

variable "notification_email" {
  description = "Optional e-mail address subscribed to this stage's alarm topic. Null for none (a stage file's alarms.email subscribes one per stack too)."
  type        = string
  default     = null

  validation {
    condition     = var.notification_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.notification_email))
    error_message = "notification_email must be null or an e-mail address."
  }
}

variable "tags" {
  description = "Extra tags for every resource, merged over the defaults (Project, Component, Stage, ManagedBy)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "tags: keys at most 128 characters, values at most 256, and no key may start with aws:."
  }
}

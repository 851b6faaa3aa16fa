# Inputs of the stage-roles module: which stages of one account get an
# execution role and a function permissions boundary, and what those may
# reach outside the stage (the function zips, the alarm topic).

variable "stages" {
  description = "The stages whose stacks run in this account (dev, staging, prod): one execution role and one boundary each."
  type        = list(string)
}

variable "account_id" {
  description = "The account the stages' stacks run in: every stage resource ARN is in it."
  type        = string
}

variable "partition" {
  description = "The AWS partition (aws, aws-cn, aws-us-gov)."
  type        = string
}

variable "region" {
  description = "The region of the stages' stacks."
  type        = string
}

variable "artifact_bucket_arn" {
  description = "The tooling account's artifact bucket: the execution roles read the function zips (functions/*) from it."
  type        = string
}

variable "artifact_key_arn" {
  description = "The KMS key the artifact bucket encrypts with; in a stage account, arn:<partition>:kms:<region>:<tooling account>:key/* narrowed by artifact_key_alias."
  type        = string
}

variable "artifact_key_alias" {
  description = "When set, the execution roles may decrypt only with a key carrying this alias (kms:ResourceAliases): how a stage account names the tooling key before it exists."
  type        = string
  default     = null
}

variable "alarm_topic_arn" {
  description = "The SNS topic the stages' alarms notify; a stack may subscribe an e-mail address to it."
  type        = string
}

variable "enforce_function_permissions_boundary" {
  description = "When true, the execution roles may only create or change function roles that carry countries-<stage>-function-boundary."
  type        = bool
}

variable "upstream_api_key_parameter_path" {
  description = "SSM path of the REST Countries v5 key parameters; the boundary lets functions read below it."
  type        = string
}

locals {
  project    = "countries"
  stages     = var.stages
  account_id = var.account_id
  partition  = var.partition
  region     = var.region

  artifact_bucket_arn = var.artifact_bucket_arn
  functions_prefix    = "functions/" # functions/<name>/<sha256>.zip (docs/contract.md)

  # Resource names the stage stacks own (docs/contract.md). The execution
  # role of a stage may create, change and delete only these.
  stage_tables = {
    for s in local.stages : s => ["countries-${s}", "status-${s}", "circuit-breaker-state-${s}"]
  }
}

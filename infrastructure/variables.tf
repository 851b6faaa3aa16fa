# Inputs of the delivery foundation. terraform.tfvars.example shows a full set.

variable "aws_region" {
  description = "Region of the pipeline, the artifact bucket and every stage stack. Must equal the `region` of stages/dev.yaml, staging.yaml and prod.yaml."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2,4}(-[a-z]+)+-[0-9]+$", var.aws_region))
    error_message = "aws_region must be an AWS region name such as eu-west-1."
  }
}

variable "connection_name" {
  description = "Name of an existing CodeConnections (CodeStar Connections) connection to the repository host, created and authorised once in the console (a connection cannot be authorised from Terraform)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,32}$", var.connection_name))
    error_message = "connection_name must be 1-32 characters of letters, digits, '.', '_' or '-' (the CodeConnections naming rule)."
  }
}

variable "repository_id" {
  description = "Full repository id on the connection's host, as owner/name (e.g. example-org/countries)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.repository_id))
    error_message = "repository_id must look like owner/name."
  }
}

variable "branch" {
  description = "Branch whose pushes (merges) run the pipeline and deploy to dev."
  type        = string
  default     = "main"

  validation {
    condition     = length(var.branch) > 0 && length(var.branch) <= 255 && !can(regex("[\\s~^:?*\\[\\\\]", var.branch))
    error_message = "branch must be a valid git branch name (no spaces, ~ ^ : ? * [ or backslash)."
  }
}

variable "artifact_bucket_name" {
  description = "Name of the artifact bucket. Null (the default) gives countries-artifacts-<account>-<region>. Its access logs go to a second bucket named <this>-logs."
  type        = string
  default     = null

  validation {
    condition     = var.artifact_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,56}[a-z0-9]$", var.artifact_bucket_name))
    error_message = "artifact_bucket_name must be a valid S3 bucket name of 3-58 characters (5 are kept for the -logs suffix of the access-log bucket)."
  }
}

variable "notification_email" {
  description = "Optional e-mail address subscribed to the notification topic (approval requests, stage alarms, failed pipeline runs). The address must confirm the subscription. Null for none."
  type        = string
  default     = null

  validation {
    condition     = var.notification_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.notification_email))
    error_message = "notification_email must be null or an e-mail address."
  }
}

variable "codebuild_image" {
  description = "CodeBuild image for every project. buildspec.yml expects Amazon Linux 2023 (glibc 2.34, dnf, python3, aws CLI v2)."
  type        = string
  default     = "aws/codebuild/amazonlinux-x86_64-standard:5.0"

  validation {
    condition     = can(regex("^aws/codebuild/amazonlinux-(x86_64|aarch64)-standard:[0-9]+\\.[0-9]+$", var.codebuild_image))
    error_message = "codebuild_image must be an AWS-managed Amazon Linux standard image, e.g. aws/codebuild/amazonlinux-x86_64-standard:5.0."
  }
}

variable "build_compute_type" {
  description = "Compute type of the build and pull-request projects (Rust release builds with fat LTO: more cores pay for themselves)."
  type        = string
  default     = "BUILD_GENERAL1_LARGE"

  validation {
    condition     = contains(["BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE", "BUILD_GENERAL1_XLARGE", "BUILD_GENERAL1_2XLARGE"], var.build_compute_type)
    error_message = "build_compute_type must be one of BUILD_GENERAL1_SMALL, _MEDIUM, _LARGE, _XLARGE, _2XLARGE."
  }
}

variable "deploy_compute_type" {
  description = "Compute type of the deploy projects (they only run the prebuilt deployer binary)."
  type        = string
  default     = "BUILD_GENERAL1_SMALL"

  validation {
    condition     = contains(["BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE"], var.deploy_compute_type)
    error_message = "deploy_compute_type must be one of BUILD_GENERAL1_SMALL, _MEDIUM, _LARGE."
  }
}

variable "pull_request_plan_stages" {
  description = "Stages that pull requests into `branch` are planned against (a change set per stage, created and deleted, never executed; the plan is the pipeline artifact plan.md). An empty list creates no pull-request pipeline. Pull-request code runs with a role that can read those stacks and create change sets, nothing more: keep it empty for a repository that takes pull requests from forks."
  type        = list(string)
  default     = ["dev", "staging", "prod"]

  validation {
    condition     = alltrue([for s in var.pull_request_plan_stages : contains(["dev", "staging", "prod"], s)]) && length(distinct(var.pull_request_plan_stages)) == length(var.pull_request_plan_stages)
    error_message = "pull_request_plan_stages may only hold dev, staging and prod, each at most once."
  }
}

variable "enforce_function_permissions_boundary" {
  description = "When true, a stage's CloudFormation execution role may only create or change function roles that carry the permissions boundary countries-<stage>-function-boundary (created here). Turn on once the stack templates set PermissionsBoundary on every role: it stops a template from granting its functions more than the boundary allows."
  type        = bool
  default     = false
}

variable "upstream_api_key_parameter_path" {
  description = "SSM Parameter Store path under which the stages keep the REST Countries v5 API key (SecureString). Only the permissions boundary uses it: functions may read parameters below it."
  type        = string
  default     = "/countries/"

  validation {
    condition     = can(regex("^/([A-Za-z0-9_.-]+/)+$", var.upstream_api_key_parameter_path))
    error_message = "upstream_api_key_parameter_path must start and end with '/', e.g. /countries/."
  }
}

variable "log_retention_days" {
  description = "Retention of the CodeBuild log groups, in days."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "pipeline_artifact_retention_days" {
  description = "Days after which the pipelines' own artifacts (source zips, package and plan artifacts of past executions) are deleted. Function zips under functions/ never expire by age: promotion and rollback need them."
  type        = number
  default     = 90

  validation {
    condition     = var.pipeline_artifact_retention_days >= 7 && var.pipeline_artifact_retention_days <= 3650 && floor(var.pipeline_artifact_retention_days) == var.pipeline_artifact_retention_days
    error_message = "pipeline_artifact_retention_days must be a whole number of days between 7 and 3650."
  }
}

variable "noncurrent_version_retention_days" {
  description = "Days an overwritten or deleted object version is kept in the artifact and access-log buckets before it is deleted."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_retention_days >= 1 && var.noncurrent_version_retention_days <= 3650 && floor(var.noncurrent_version_retention_days) == var.noncurrent_version_retention_days
    error_message = "noncurrent_version_retention_days must be a whole number of days between 1 and 3650."
  }
}

variable "cache_retention_days" {
  description = "Days after which CodeBuild's S3 cache (cargo registry, toolchain, target/) is deleted; the next build then starts cold."
  type        = number
  default     = 14

  validation {
    condition     = var.cache_retention_days >= 1 && var.cache_retention_days <= 365 && floor(var.cache_retention_days) == var.cache_retention_days
    error_message = "cache_retention_days must be a whole number of days between 1 and 365."
  }
}

variable "access_log_retention_days" {
  description = "Days the artifact bucket's S3 server access logs are kept."
  type        = number
  default     = 365

  validation {
    condition     = var.access_log_retention_days >= 30 && var.access_log_retention_days <= 3650 && floor(var.access_log_retention_days) == var.access_log_retention_days
    error_message = "access_log_retention_days must be a whole number of days between 30 and 3650."
  }
}

variable "tags" {
  description = "Extra tags for every resource, merged over the defaults (Project, Component, ManagedBy, Repository)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "tags: keys at most 128 characters, values at most 256, and no key may start with aws:."
  }
}

variable "stage_accounts" {
  description = "Stages that run in an account of their own (docs/delivery.md, \"One account per stage\"): for each, the `tooling_inputs` output of infrastructure/stage-account applied in that account. Empty (the default): every stage runs in this account, as before. A stage listed here gets no execution role, boundary or CodeDeploy role in this account; the artifact bucket and key grant its execution role read of the function zips, and its CodeBuild deploy role may assume its deploy role there."
  type = map(object({
    account_id          = string
    execution_role_arn  = string
    deploy_role_arn     = string
    reader_role_arn     = optional(string)
    alarm_topic_arn     = string
    codedeploy_role_arn = string
  }))
  default = {}

  validation {
    condition     = alltrue([for s in keys(var.stage_accounts) : contains(["dev", "staging", "prod"], s)])
    error_message = "stage_accounts may only hold dev, staging and prod."
  }

  validation {
    condition = alltrue([
      for s, a in var.stage_accounts :
      can(regex("^[0-9]{12}$", a.account_id))
      && can(regex("^arn:[a-z-]+:iam::${a.account_id}:role/countries-delivery-${s}-cloudformation$", a.execution_role_arn))
      && can(regex("^arn:[a-z-]+:iam::${a.account_id}:role/countries-delivery-${s}-deployer$", a.deploy_role_arn))
      && (a.reader_role_arn == null || can(regex("^arn:[a-z-]+:iam::${a.account_id}:role/countries-delivery-${s}-reader$", coalesce(a.reader_role_arn, "-"))))
      && can(regex("^arn:[a-z-]+:sns:[a-z0-9-]+:${a.account_id}:countries-${s}-alarms$", a.alarm_topic_arn))
      && can(regex("^arn:[a-z-]+:iam::${a.account_id}:role/countries-delivery-${s}-codedeploy$", a.codedeploy_role_arn))
    ])
    error_message = "Each stage_accounts entry must be the tooling_inputs output of infrastructure/stage-account applied for that stage: a 12-digit account_id, and the stage's execution, deployer, reader and CodeDeploy roles and alarm topic in that account (no wildcards)."
  }

  # dev and staging are promoted from: the next stage's deploy reads their stack
  # through their reader role.
  validation {
    condition     = alltrue([for s in ["dev", "staging"] : try(var.stage_accounts[s].reader_role_arn, "set") != null])
    error_message = "stage_accounts.dev and stage_accounts.staging need reader_role_arn: the next stage's promotion reads their stack with it (infrastructure/stage-account creates it for every stage that is promoted from)."
  }
}

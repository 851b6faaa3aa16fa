# Names shared by the files of a stage account. The tooling account's names
# (its CodeBuild deploy roles, the artifact bucket, the key's alias) are the
# ones infrastructure/ gives them: change them there and here together.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  project    = "countries"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = var.aws_region

  # The promotion order (infrastructure/locals.tf promote_from): which
  # stages' deploys read this stage's stack when they promote from it.
  promoted_to = {
    dev     = ["staging"]
    staging = ["prod"]
    prod    = []
  }[var.stage]

  stack_arn = "arn:${local.partition}:cloudformation:${local.region}:${local.account_id}:stack/${local.project}-${var.stage}/*"

  # The tooling account's CodeBuild deploy role of a stage
  # (infrastructure/locals.tf codebuild_projects role_name).
  tooling_deploy_role_arn = {
    for s in ["dev", "staging", "prod"] : s => "arn:${local.partition}:iam::${var.tooling_account_id}:role/${local.project}-delivery-${s}-deploy"
  }

  artifact_bucket_name = coalesce(var.artifact_bucket_name, "${local.project}-artifacts-${var.tooling_account_id}-${local.region}")
  artifact_bucket_arn  = "arn:${local.partition}:s3:::${local.artifact_bucket_name}"
  # The tooling key by its alias (infrastructure/kms.tf): its id is not known
  # when this account is applied, which is first.
  artifact_key_arn   = "arn:${local.partition}:kms:${local.region}:${var.tooling_account_id}:key/*"
  artifact_key_alias = "alias/${local.project}-delivery"
}

# Names shared by several files. The stage names, stack names and resource
# names of the stacks come from docs/contract.md and stages/*.yaml: change
# them there and here in the same commit.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  project    = "countries"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = var.aws_region

  # The deployment stages, in promotion order, and how the pipeline deploys
  # each one (mirrors `promote_from` and `approval` in stages/<stage>.yaml).
  stages = ["dev", "staging", "prod"]
  promote_from = {
    dev     = null
    staging = "dev"
    prod    = "staging"
  }
  needs_approval = {
    dev     = false
    staging = false
    prod    = true
  }

  # One CloudFormation stack per stage: countries-<stage>.
  stack_names = { for s in local.stages : s => "${local.project}-${s}" }
  stack_arns = {
    for s in local.stages :
    s => "arn:${local.partition}:cloudformation:${local.region}:${local.account_id}:stack/${local.stack_names[s]}/*"
  }

  pipeline_name              = local.project
  pull_request_pipeline_name = "${local.project}-pr"
  pipeline_arn               = "arn:${local.partition}:codepipeline:${local.region}:${local.account_id}:${local.pipeline_name}"
  pull_request_pipeline_arn  = "arn:${local.partition}:codepipeline:${local.region}:${local.account_id}:${local.pull_request_pipeline_name}"
  pull_requests_enabled      = length(var.pull_request_plan_stages) > 0

  # CodePipeline stores each pipeline's artifacts under the first 20
  # characters of the pipeline's name.
  pipeline_artifact_prefixes = [
    "${substr(local.pipeline_name, 0, 20)}/",
    "${substr(local.pull_request_pipeline_name, 0, 20)}/",
  ]

  artifact_bucket_name   = coalesce(var.artifact_bucket_name, "${local.project}-artifacts-${local.account_id}-${local.region}")
  access_log_bucket_name = "${local.artifact_bucket_name}-logs"

  # Keys inside the artifact bucket.
  functions_prefix      = "functions/" # functions/<name>/<sha256>.zip (docs/contract.md)
  templates_prefix      = "templates/" # templates/<stage>/... when a template is too big for TemplateBody
  cache_prefix          = "cache/"     # cache/<codebuild project>/...
  deployer_outputs_key  = "deployer/terraform-outputs.json"
  deployer_outputs_uri  = "s3://${local.artifact_bucket_name}/${local.deployer_outputs_key}"
  artifact_bucket_arn   = "arn:${local.partition}:s3:::${local.artifact_bucket_name}"
  access_log_bucket_arn = "arn:${local.partition}:s3:::${local.access_log_bucket_name}"

  # The CodeBuild projects, one per kind of action. Deploy projects are one
  # per stage so that each runs with a role that can change only its stage.
  codebuild_projects = merge(
    {
      build = {
        name         = "${local.project}-build"
        description  = "Tests, renders (--check) and packages the countries service once per commit."
        role_name    = "${local.project}-delivery-build"
        compute_type = var.build_compute_type
        timeout      = 60
        cache        = true
        env          = tomap({ PIPELINE_STEP = "build" })
      }
    },
    {
      for s in local.stages : "deploy-${s}" => {
        name         = "${local.project}-deploy-${s}"
        description  = "Deploys the packaged artifact to the ${s} stage (countries-${s} stack)."
        role_name    = "${local.project}-delivery-${s}-deploy"
        compute_type = var.deploy_compute_type
        timeout      = 45
        cache        = false
        env = tomap({
          for k, v in {
            PIPELINE_STEP = local.promote_from[s] == null ? "deploy" : "promote"
            DEPLOY_STAGE  = s
            PROMOTE_FROM  = local.promote_from[s]
          } : k => v if v != null
        })
      }
    },
    # (a `for ... if` rather than `cond ? {...} : {}`: the two branches of a
    # conditional must have the same object type)
    {
      for k, v in {
        "pull-request" = {
          name         = "${local.project}-pull-request"
          description  = "Renders and plans (change sets, never executed) a pull request against ${join(", ", var.pull_request_plan_stages)}."
          role_name    = "${local.project}-delivery-pull-request"
          compute_type = var.build_compute_type
          timeout      = 60
          cache        = true
          env          = tomap({ PIPELINE_STEP = "pull-request", PLAN_STAGES = join(" ", var.pull_request_plan_stages) })
        }
      } : k => v if local.pull_requests_enabled
    },
  )
}

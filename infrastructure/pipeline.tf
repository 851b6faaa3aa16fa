# The delivery pipeline (CodePipeline V2), one execution per push to
# var.branch:
#
#   Source  -> Build    -> dev     -> staging          -> prod
#   (conn.)    test,       Deploy:    Promote:            Approve (SNS), then
#              render      deployer   deployer promote    Promote: deployer
#              --check,    up dev     dev staging,        promote staging prod
#              package     --yes      smoke test
#
# Pipeline stages are named after the deployment stages, so `deployer status`
# and `deployer promote` find a stage's actions (and prod's waiting approval)
# by stage name: pipeline stage <stage>, actions Deploy | Promote | Approve.
# The package (function zips + manifest + the deployer binary) is built once
# in Build and every later action uses that artifact: nothing is rebuilt.
# Each CodeBuild action gets the commit and the execution id so that the
# deployer can tag the stack with them.

locals {
  common_action_env = [
    { name = "GIT_COMMIT", value = "#{SourceVariables.CommitId}", type = "PLAINTEXT" },
    { name = "PIPELINE_EXECUTION_ID", value = "#{codepipeline.PipelineExecutionId}", type = "PLAINTEXT" },
  ]

  approval_custom_data = join(" ", [
    "This run put commit #{SourceVariables.CommitId} (package manifest sha256 #{BuildVariables.PACKAGE_DIGEST}) on staging.",
    "Before approving, check with `deployer status` that staging still runs this commit, and try the staging API.",
    "Approving runs `deployer promote staging prod --yes`: prod gets the artifact staging runs, never a rebuild.",
  ])
}

resource "aws_codepipeline" "delivery" {
  name           = local.pipeline_name
  pipeline_type  = "V2"
  execution_mode = "SUPERSEDED"
  role_arn       = aws_iam_role.pipeline.arn

  artifact_store {
    type     = "S3"
    location = aws_s3_bucket.artifacts.bucket
    encryption_key {
      type = "KMS"
      id   = aws_kms_key.delivery.arn
    }
  }

  # Runs on pushes to the branch (a merged pull request is a push).
  trigger {
    provider_type = "CodeStarSourceConnection"
    git_configuration {
      source_action_name = "Source"
      push {
        branches {
          includes = [var.branch]
        }
      }
    }
  }

  stage {
    name = "Source"
    action {
      name             = "Source"
      category         = "Source"
      owner            = "AWS"
      provider         = "CodeStarSourceConnection"
      version          = "1"
      namespace        = "SourceVariables"
      output_artifacts = ["source"]
      configuration = {
        ConnectionArn        = local.connection_arn
        FullRepositoryId     = var.repository_id
        BranchName           = var.branch
        OutputArtifactFormat = "CODE_ZIP"
      }
    }
  }

  # bash scripts/test.sh, deployer render --all --check, deployer package dev;
  # output "package": bin/deployer, lambda/<zips>, lambda/manifest.json.
  stage {
    name = "Build"
    action {
      name             = "Build"
      category         = "Build"
      owner            = "AWS"
      provider         = "CodeBuild"
      version          = "1"
      namespace        = "BuildVariables"
      input_artifacts  = ["source"]
      output_artifacts = ["package"]
      configuration = {
        ProjectName = aws_codebuild_project.this["build"].name
        EnvironmentVariables = jsonencode(concat(local.common_action_env, [
          { name = "PIPELINE_STEP", value = "build", type = "PLAINTEXT" },
        ]))
      }
    }
  }

  # dev: `deployer up dev --yes --artifacts <package>/lambda`.
  # staging, prod: `deployer promote <from> <to> --yes` + smoke test, prod
  # behind a manual approval in the same pipeline stage (the stage stays
  # locked from the approval until prod is deployed).
  dynamic "stage" {
    for_each = local.stages
    content {
      name = stage.value

      dynamic "action" {
        for_each = local.needs_approval[stage.value] ? [stage.value] : []
        content {
          name      = "Approve"
          category  = "Approval"
          owner     = "AWS"
          provider  = "Manual"
          version   = "1"
          run_order = 1
          configuration = {
            NotificationArn = aws_sns_topic.notifications.arn
            CustomData      = local.approval_custom_data
          }
        }
      }

      action {
        name            = local.promote_from[stage.value] == null ? "Deploy" : "Promote"
        category        = "Build"
        owner           = "AWS"
        provider        = "CodeBuild"
        version         = "1"
        run_order       = local.needs_approval[stage.value] ? 2 : 1
        input_artifacts = ["source", "package"]
        # What the deployer reported after the deploy (status JSON, smoke test).
        output_artifacts = ["deployed_${stage.value}"]
        configuration = {
          ProjectName   = aws_codebuild_project.this["deploy-${stage.value}"].name
          PrimarySource = "source"
          # PIPELINE_STEP=deploy|promote, DEPLOY_STAGE=<stage>, PROMOTE_FROM=<from>
          EnvironmentVariables = jsonencode(concat(local.common_action_env, [
            for name, value in local.codebuild_projects["deploy-${stage.value}"].env :
            { name = name, value = value, type = "PLAINTEXT" }
          ]))
        }
      }
    }
  }
}

# Pull requests into var.branch: Source -> Plan (plan.md per execution,
# in the pipeline's artifacts). Change sets are created and deleted, never
# executed. Omitted when var.pull_request_plan_stages is empty.
resource "aws_codepipeline" "pull_request" {
  count = local.pull_requests_enabled ? 1 : 0

  name           = local.pull_request_pipeline_name
  pipeline_type  = "V2"
  execution_mode = "PARALLEL"
  role_arn       = aws_iam_role.pipeline.arn

  # Pull-request code may create change sets only with roles of this account:
  # a stage in its own account trusts only its deploy action there.
  lifecycle {
    precondition {
      condition     = length(setintersection(var.pull_request_plan_stages, keys(var.stage_accounts))) == 0
      error_message = "pull_request_plan_stages names ${join(", ", setintersection(var.pull_request_plan_stages, keys(var.stage_accounts)))}, which run in their own account (stage_accounts): pull requests are planned only against stages in this account. Remove them from pull_request_plan_stages (or set it to [])."
    }
  }

  artifact_store {
    type     = "S3"
    location = aws_s3_bucket.artifacts.bucket
    encryption_key {
      type = "KMS"
      id   = aws_kms_key.delivery.arn
    }
  }

  trigger {
    provider_type = "CodeStarSourceConnection"
    git_configuration {
      source_action_name = "Source"
      pull_request {
        events = ["OPEN", "UPDATED"]
        branches {
          includes = [var.branch]
        }
      }
    }
  }

  stage {
    name = "Source"
    action {
      name             = "Source"
      category         = "Source"
      owner            = "AWS"
      provider         = "CodeStarSourceConnection"
      version          = "1"
      namespace        = "SourceVariables"
      output_artifacts = ["source"]
      configuration = {
        ConnectionArn        = local.connection_arn
        FullRepositoryId     = var.repository_id
        BranchName           = var.branch
        OutputArtifactFormat = "CODE_ZIP"
      }
    }
  }

  stage {
    name = "Plan"
    action {
      name             = "Plan"
      category         = "Build"
      owner            = "AWS"
      provider         = "CodeBuild"
      version          = "1"
      input_artifacts  = ["source"]
      output_artifacts = ["plan"]
      configuration = {
        ProjectName = aws_codebuild_project.this["pull-request"].name
        EnvironmentVariables = jsonencode(concat(local.common_action_env, [
          { name = "PIPELINE_STEP", value = "pull-request", type = "PLAINTEXT" },
          { name = "PLAN_STAGES", value = join(" ", var.pull_request_plan_stages), type = "PLAINTEXT" },
          # The repository the plan comment goes to (github.tf; `plan --post-to-pr auto`).
          { name = "DEPLOYER_GITHUB_REPOSITORY", value = var.repository_id, type = "PLAINTEXT" },
        ]))
      }
    }
  }
}

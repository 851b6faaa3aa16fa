# The CodeBuild projects. Every one runs the repository's buildspec.yml,
# which switches on PIPELINE_STEP (build | deploy | promote | pull-request)
# and DEPLOY_STAGE / PROMOTE_FROM (set here per project and again per action
# in pipeline.tf). One project per kind of action, and one deploy project per
# stage, so that each runs with a role that can do only that action
# (iam_codebuild.tf): the build cannot deploy, dev's deploy cannot touch
# prod, and prod is changed only by the action after the approval.

resource "aws_cloudwatch_log_group" "codebuild" {
  for_each = local.codebuild_projects

  name              = "/aws/codebuild/${each.value.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.delivery.arn
}

resource "aws_codebuild_project" "this" {
  for_each = local.codebuild_projects

  name           = each.value.name
  description    = each.value.description
  service_role   = aws_iam_role.codebuild[each.key].arn
  build_timeout  = each.value.timeout
  queued_timeout = 60
  encryption_key = aws_kms_key.delivery.arn

  source {
    type      = "CODEPIPELINE"
    buildspec = "buildspec.yml"
  }

  artifacts {
    type = "CODEPIPELINE"
  }

  # Cargo registry, rustup toolchain and target/ (paths in buildspec.yml),
  # in S3 so that it survives across build hosts. Deploy projects build
  # nothing and keep no cache.
  cache {
    type     = each.value.cache ? "S3" : "NO_CACHE"
    location = each.value.cache ? "${aws_s3_bucket.artifacts.bucket}/${local.cache_prefix}${each.value.name}" : null
  }

  environment {
    compute_type                = each.value.compute_type
    image                       = var.codebuild_image
    type                        = strcontains(var.codebuild_image, "aarch64") ? "ARM_CONTAINER" : "LINUX_CONTAINER"
    image_pull_credentials_type = "CODEBUILD"
    privileged_mode             = false

    # Defaults for the buildspec's switches (the pipeline's actions set them
    # again), plus DEPLOYER_OUTPUTS_S3_URI: where the buildspec fetches the
    # Terraform outputs from (outputs_file.tf); it saves them to a file and
    # points DEPLOYER_OUTPUTS_FILE at it. PIPELINE_NAME: the deployer tags
    # the stacks it deploys with it (countries:pipeline).
    dynamic "environment_variable" {
      for_each = merge(each.value.env, {
        DEPLOYER_OUTPUTS_S3_URI = local.deployer_outputs_uri
        PIPELINE_NAME           = local.pipeline_name
      })
      content {
        name  = environment_variable.key
        value = environment_variable.value
        type  = "PLAINTEXT"
      }
    }
  }

  logs_config {
    cloudwatch_logs {
      status     = "ENABLED"
      group_name = aws_cloudwatch_log_group.codebuild[each.key].name
    }
    s3_logs {
      status = "DISABLED"
    }
  }
}

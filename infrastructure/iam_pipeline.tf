# The pipeline role, shared by the delivery pipeline and the pull-request
# pipeline (both defined here, nothing else can use it): it reads the
# repository through the connection, moves artifacts in the artifact bucket,
# starts the CodeBuild projects and publishes approval requests. It deploys
# nothing itself and passes no role.

data "aws_iam_policy_document" "pipeline_assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["codepipeline.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "pipeline" {
  name                 = "${local.project}-delivery-pipeline"
  description          = "CodePipeline service role of the countries delivery and pull-request pipelines."
  assume_role_policy   = data.aws_iam_policy_document.pipeline_assume.json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "pipeline" {
  statement {
    sid = "UseRepositoryConnection"
    actions = [
      "codeconnections:UseConnection",
      "codestar-connections:UseConnection",
    ]
    resources = [local.connection_arn]
  }

  statement {
    sid = "PipelineArtifacts"
    actions = [
      "s3:GetObject",
      "s3:GetObjectVersion",
      "s3:PutObject",
    ]
    resources = [for p in local.pipeline_artifact_prefixes : "${local.artifact_bucket_arn}/${p}*"]
  }

  statement {
    sid = "ArtifactBucket"
    actions = [
      "s3:GetBucketLocation",
      "s3:GetBucketVersioning",
    ]
    resources = [local.artifact_bucket_arn]
  }

  statement {
    sid = "ArtifactEncryption"
    actions = [
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
    ]
    resources = [aws_kms_key.delivery.arn]
  }

  statement {
    sid = "RunBuildProjects"
    actions = [
      "codebuild:BatchGetBuilds",
      "codebuild:StartBuild",
    ]
    resources = [for p in aws_codebuild_project.this : p.arn]
  }

  statement {
    sid       = "ApprovalNotifications"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.notifications.arn]
  }
}

resource "aws_iam_role_policy" "pipeline" {
  name   = "pipeline"
  role   = aws_iam_role.pipeline.id
  policy = data.aws_iam_policy_document.pipeline.json
}

# The GitHub token the pull-request build comments with
# (`deployer plan <stage> --format markdown --post-to-pr <number>`: one comment
# per pull request, updated in place on each push).
#
# Terraform creates the secret and never its value; a person sets it once
# (docs/delivery.md, "The plan on the pull request"):
#
#   aws secretsmanager put-secret-value --secret-id countries/github-token \
#     --secret-string "$TOKEN"
#
# A fine-grained token for the repository with "Pull requests: read and write"
# (issue comments on pull requests) is all it needs. Until a value is set the
# pull-request build still succeeds and says the comment was skipped and why.
# Encrypted with the delivery key; only the pull-request project's role may
# read it.

resource "aws_secretsmanager_secret" "github_token" {
  #checkov:skip=CKV2_AWS_57:A GitHub token cannot be rotated by a Lambda; it expires on GitHub's side and a person replaces it (docs/delivery.md).
  name                    = "${local.project}/github-token"
  description             = "GitHub token for the countries pull-request plan comments (value set by hand, never by Terraform)."
  kms_key_id              = aws_kms_key.delivery.arn
  recovery_window_in_days = 7
}

data "aws_iam_policy_document" "pull_request_github_token" {
  count = local.pull_requests_enabled ? 1 : 0

  statement {
    sid       = "ReadGitHubToken"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.github_token.arn]
  }
  # Decrypting it needs kms:Decrypt on the delivery key, which every project's
  # common policy grants (iam_codebuild.tf, ArtifactEncryption).
}

resource "aws_iam_role_policy" "pull_request_github_token" {
  count = local.pull_requests_enabled ? 1 : 0

  name   = "github-token"
  role   = aws_iam_role.codebuild["pull-request"].id
  policy = data.aws_iam_policy_document.pull_request_github_token[0].json
}

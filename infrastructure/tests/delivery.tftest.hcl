# Tests of the delivery foundation: `terraform test`, which
# scripts/terraform.sh runs (offline with a provider mirror, or online);
# tools/check_execution_roles.py then reads the execution-role policies these
# runs render. Terraform >= 1.11 (what they were written and checked with;
# scripts/terraform.sh checks it).
#
# Three configurations: the default variables; a variant (permissions
# boundary enforced, pull requests planned against staging only, an e-mail
# subscription); and pull requests off. Each asserts what a reviewer relies
# on: the pipeline's order (Source -> Build -> dev -> staging -> approval ->
# prod), one execution role and one deploy role per stage and what each may
# pass and change, no Allow of a wildcard action in any policy, and every
# policy under IAM's size limits.
#
# No AWS account and no credentials, and nothing reaches AWS:
#   - the real AWS provider is configured with fake keys and told to call
#     nothing at start-up; it plans every resource for real;
#   - the two data sources that would call AWS are overridden;
#   - EVERY managed resource is overridden (override_resource), so `apply`
#     calls no AWS API: it stores the planned values plus the override values.
#     Those that feed a policy or an assertion (roles, keys, topics, ...) get
#     the ARNs they would have in account 111111111111, us-east-1 (the account
#     and region of stages/*.yaml and outputs.example.json).
# The runs use `command = apply` rather than `plan` because Terraform defers
# a data source that refers to a resource with pending changes until apply
# (read_because_dependency_pending): in a plan, every aws_iam_policy_document
# that names a role, key or topic ARN would be "known after apply". In an
# apply where every resource is overridden they are read for real, so the
# assertions see the JSON IAM would receive.
#
# Adding a resource to infrastructure/: add an override_resource for it below
# (with the attributes that others use), or these runs will try to create it
# in AWS and fail on the fake credentials.

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test-only-not-a-key"
  secret_key                  = "test-only-not-a-secret"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  max_retries                 = 1
}

# The required inputs; everything else keeps its default.
variables {
  aws_region      = "us-east-1"
  connection_name = "countries-github"
  repository_id   = "example-org/countries"
}

# --- data sources that would call AWS ---------------------------------------------

override_data {
  target = data.aws_caller_identity.current
  values = { account_id = "111111111111", arn = "arn:aws:iam::111111111111:user/terraform-test", user_id = "AIDATERRAFORMTEST" }
}

override_data {
  target = data.aws_codestarconnections_connection.repository
  values = { arn = "arn:aws:codeconnections:us-east-1:111111111111:connection/00000000-0000-4000-8000-000000000000", connection_status = "AVAILABLE" }
}

# --- every managed resource ------------------------------------------------------

# The roles (iam_*.tf names): distinct ARNs, ids = names.

override_resource {
  target = module.stage_roles.aws_iam_role.cloudformation["dev"]
  values = { arn = "arn:aws:iam::111111111111:role/countries-delivery-dev-cloudformation", id = "countries-delivery-dev-cloudformation" }
}

override_resource {
  target = module.stage_roles.aws_iam_role.cloudformation["staging"]
  values = { arn = "arn:aws:iam::111111111111:role/countries-delivery-staging-cloudformation", id = "countries-delivery-staging-cloudformation" }
}

override_resource {
  target = module.stage_roles.aws_iam_role.cloudformation["prod"]
  values = { arn = "arn:aws:iam::111111111111:role/countries-delivery-prod-cloudformation", id = "countries-delivery-prod-cloudformation" }
}

override_resource {
  target = aws_iam_role.codebuild["build"]
  values = { arn = "arn:aws:iam::111111111111:role/countries-delivery-build", id = "countries-delivery-build" }
}

override_resource {
  target = aws_iam_role.codebuild["deploy-dev"]
  values = { arn = "arn:aws:iam::111111111111:role/countries-delivery-dev-deploy", id = "countries-delivery-dev-deploy" }
}

override_resource {
  target = aws_iam_role.codebuild["deploy-staging"]
  values = { arn = "arn:aws:iam::111111111111:role/countries-delivery-staging-deploy", id = "countries-delivery-staging-deploy" }
}

override_resource {
  target = aws_iam_role.codebuild["deploy-prod"]
  values = { arn = "arn:aws:iam::111111111111:role/countries-delivery-prod-deploy", id = "countries-delivery-prod-deploy" }
}

override_resource {
  target = aws_iam_role.codebuild["pull-request"]
  values = { arn = "arn:aws:iam::111111111111:role/countries-delivery-pull-request", id = "countries-delivery-pull-request" }
}

override_resource {
  target = aws_iam_role.pipeline
  values = { arn = "arn:aws:iam::111111111111:role/countries-delivery-pipeline", id = "countries-delivery-pipeline" }
}

override_resource {
  target = module.stage_roles.aws_iam_role.codedeploy["dev"]
  values = { arn = "arn:aws:iam::111111111111:role/countries-delivery-dev-codedeploy", id = "countries-delivery-dev-codedeploy" }
}

override_resource {
  target = module.stage_roles.aws_iam_role.codedeploy["staging"]
  values = { arn = "arn:aws:iam::111111111111:role/countries-delivery-staging-codedeploy", id = "countries-delivery-staging-codedeploy" }
}

override_resource {
  target = module.stage_roles.aws_iam_role.codedeploy["prod"]
  values = { arn = "arn:aws:iam::111111111111:role/countries-delivery-prod-codedeploy", id = "countries-delivery-prod-codedeploy" }
}

# The GitHub token's secret (github.tf): its ARN carries a random suffix.

override_resource {
  target = aws_secretsmanager_secret.github_token
  values = { arn = "arn:aws:secretsmanager:us-east-1:111111111111:secret:countries/github-token-AbCdEf", id = "arn:aws:secretsmanager:us-east-1:111111111111:secret:countries/github-token-AbCdEf" }
}

# CodeBuild: each project's log group and ARN.

override_resource {
  target = aws_cloudwatch_log_group.codebuild["build"]
  values = { arn = "arn:aws:logs:us-east-1:111111111111:log-group:/aws/codebuild/countries-build" }
}

override_resource {
  target = aws_cloudwatch_log_group.codebuild["deploy-dev"]
  values = { arn = "arn:aws:logs:us-east-1:111111111111:log-group:/aws/codebuild/countries-deploy-dev" }
}

override_resource {
  target = aws_cloudwatch_log_group.codebuild["deploy-staging"]
  values = { arn = "arn:aws:logs:us-east-1:111111111111:log-group:/aws/codebuild/countries-deploy-staging" }
}

override_resource {
  target = aws_cloudwatch_log_group.codebuild["deploy-prod"]
  values = { arn = "arn:aws:logs:us-east-1:111111111111:log-group:/aws/codebuild/countries-deploy-prod" }
}

override_resource {
  target = aws_cloudwatch_log_group.codebuild["pull-request"]
  values = { arn = "arn:aws:logs:us-east-1:111111111111:log-group:/aws/codebuild/countries-pull-request" }
}

override_resource {
  target = aws_codebuild_project.this["build"]
  values = { arn = "arn:aws:codebuild:us-east-1:111111111111:project/countries-build" }
}

override_resource {
  target = aws_codebuild_project.this["deploy-dev"]
  values = { arn = "arn:aws:codebuild:us-east-1:111111111111:project/countries-deploy-dev" }
}

override_resource {
  target = aws_codebuild_project.this["deploy-staging"]
  values = { arn = "arn:aws:codebuild:us-east-1:111111111111:project/countries-deploy-staging" }
}

override_resource {
  target = aws_codebuild_project.this["deploy-prod"]
  values = { arn = "arn:aws:codebuild:us-east-1:111111111111:project/countries-deploy-prod" }
}

override_resource {
  target = aws_codebuild_project.this["pull-request"]
  values = { arn = "arn:aws:codebuild:us-east-1:111111111111:project/countries-pull-request" }
}

# The key, the topic, the buckets and the pipelines.

override_resource {
  target = aws_kms_key.delivery
  values = { arn = "arn:aws:kms:us-east-1:111111111111:key/00000000-0000-4000-8000-000000000001", key_id = "00000000-0000-4000-8000-000000000001" }
}

override_resource {
  target = aws_sns_topic.notifications
  values = { arn = "arn:aws:sns:us-east-1:111111111111:countries-notifications", id = "arn:aws:sns:us-east-1:111111111111:countries-notifications" }
}

override_resource {
  target = aws_s3_bucket.artifacts
  values = { arn = "arn:aws:s3:::countries-artifacts-111111111111-us-east-1", id = "countries-artifacts-111111111111-us-east-1" }
}

override_resource {
  target = aws_s3_bucket.access_logs
  values = { arn = "arn:aws:s3:::countries-artifacts-111111111111-us-east-1-logs", id = "countries-artifacts-111111111111-us-east-1-logs" }
}

override_resource {
  target = aws_codepipeline.delivery
  values = { arn = "arn:aws:codepipeline:us-east-1:111111111111:countries" }
}

override_resource {
  target = aws_codepipeline.pull_request
  values = { arn = "arn:aws:codepipeline:us-east-1:111111111111:countries-pr" }
}

# Everything else: none of their computed attributes feeds a policy or an assertion.

override_resource { target = aws_codestarnotifications_notification_rule.pipeline }

override_resource { target = module.stage_roles.aws_iam_policy.function_boundary }

override_resource { target = module.stage_roles.aws_iam_role_policy.cloudformation }

override_resource { target = module.stage_roles.aws_iam_role_policy.cloudformation_releases }

override_resource { target = module.stage_roles.aws_iam_role_policy.codedeploy }

override_resource { target = aws_iam_role_policy.pull_request_github_token }

override_resource { target = aws_iam_role_policy.codebuild_common }

override_resource { target = aws_iam_role_policy.codebuild_deploy }

override_resource { target = aws_iam_role_policy.codebuild_pull_request }

override_resource { target = aws_iam_role_policy.pipeline }

override_resource { target = aws_kms_alias.delivery }

override_resource { target = aws_s3_bucket_lifecycle_configuration.access_logs }

override_resource { target = aws_s3_bucket_lifecycle_configuration.artifacts }

override_resource { target = aws_s3_bucket_logging.artifacts }

override_resource { target = aws_s3_bucket_ownership_controls.access_logs }

override_resource { target = aws_s3_bucket_ownership_controls.artifacts }

override_resource { target = aws_s3_bucket_policy.access_logs }

override_resource { target = aws_s3_bucket_policy.artifacts }

override_resource { target = aws_s3_bucket_public_access_block.access_logs }

override_resource { target = aws_s3_bucket_public_access_block.artifacts }

override_resource { target = aws_s3_bucket_server_side_encryption_configuration.access_logs }

override_resource { target = aws_s3_bucket_server_side_encryption_configuration.artifacts }

override_resource { target = aws_s3_bucket_versioning.access_logs }

override_resource { target = aws_s3_bucket_versioning.artifacts }

override_resource { target = aws_s3_object.deployer_outputs }

override_resource { target = aws_sns_topic_policy.notifications }

override_resource { target = aws_sns_topic_subscription.email }

# --- the default variables -----------------------------------------------------

run "defaults" {
  command = apply

  # --- defaults: the pipeline runs Source -> Build -> dev -> staging -> approval -> prod
  assert {
    condition = flatten([
      for s in aws_codepipeline.delivery.stage : [for a in s.action : "${s.name}/${a.category}:${a.name}"]
      ]) == [
      "Source/Source:Source",
      "Build/Build:Build",
      "dev/Build:Deploy",
      "staging/Build:Promote",
      "prod/Approval:Approve",
      "prod/Build:Promote",
    ]
    error_message = "The delivery pipeline's stages and actions are not Source -> Build -> dev (Deploy) -> staging (Promote) -> prod (Approve, then Promote): ${jsonencode([for s in aws_codepipeline.delivery.stage : { (s.name) = [for a in s.action : "${a.category}:${a.name}"] }])}"
  }

  assert {
    condition     = [for a in one([for s in aws_codepipeline.delivery.stage : s if s.name == "prod"]).action : "${a.name}@${a.run_order}"] == ["Approve@1", "Promote@2"]
    error_message = "prod must run its approval first (run_order 1) and promote after it (run_order 2): ${jsonencode([for a in one([for s in aws_codepipeline.delivery.stage : s if s.name == "prod"]).action : "${a.name}@${a.run_order}"])}"
  }

  assert {
    condition = alltrue([
      for s in aws_codepipeline.delivery.stage : alltrue([
        for a in s.action :
        a.configuration.ProjectName == aws_codebuild_project.this["deploy-${s.name}"].name
        && contains(jsondecode(a.configuration.EnvironmentVariables), { name = "DEPLOY_STAGE", value = s.name, type = "PLAINTEXT" })
        && contains(a.input_artifacts, "package")
        if a.category == "Build"
      ]) if contains(["dev", "staging", "prod"], s.name)
    ])
    error_message = "Each stage's Deploy/Promote action must run that stage's deploy project (countries-deploy-<stage>) with DEPLOY_STAGE=<stage> on the Build's package artifact."
  }

  # --- defaults: one execution role per stage, attached to its stack and to nothing else
  assert {
    condition     = toset(keys(module.stage_roles.execution_roles)) == toset(["dev", "staging", "prod"]) && length(distinct([for r in module.stage_roles.execution_roles : r.arn])) == 3
    error_message = "Expected exactly one CloudFormation execution role for each of dev, staging and prod; got ${jsonencode(keys(module.stage_roles.execution_roles))}."
  }

  assert {
    condition     = output.cloudformation_execution_role_arns == tomap({ for s, r in module.stage_roles.execution_roles : s => r.arn })
    error_message = "The output cloudformation_execution_role_arns must map each stage to its own execution role: ${jsonencode(output.cloudformation_execution_role_arns)}"
  }

  assert {
    condition = alltrue([
      for s, r in module.stage_roles.execution_roles :
      r.name == "countries-delivery-${s}-cloudformation"
      && jsondecode(r.assume_role_policy).Statement[*].Principal.Service == ["cloudformation.amazonaws.com"]
      && r.policy_role == r.id
      && length([for p in concat(values(aws_iam_role_policy.codebuild_common), values(aws_iam_role_policy.codebuild_deploy), aws_iam_role_policy.codebuild_pull_request, [aws_iam_role_policy.pipeline]) : p if p.role == r.id]) == 0
    ])
    error_message = "Each execution role countries-delivery-<stage>-cloudformation must be assumable by CloudFormation only and carry exactly one inline policy, its stage's."
  }

  # --- defaults: one deploy role per stage; it may create change sets on its own stack only, with its own execution role only
  assert {
    condition = alltrue([
      for s in ["dev", "staging", "prod"] :
      aws_codebuild_project.this["deploy-${s}"].service_role == aws_iam_role.codebuild["deploy-${s}"].arn
      && aws_iam_role.codebuild["deploy-${s}"].name == "countries-delivery-${s}-deploy"
      && aws_iam_role_policy.codebuild_deploy[s].role == aws_iam_role.codebuild["deploy-${s}"].id
    ]) && length(distinct([for s in ["dev", "staging", "prod"] : aws_iam_role.codebuild["deploy-${s}"].arn])) == 3
    error_message = "Each stage needs its own deploy role countries-delivery-<stage>-deploy, used by the project countries-deploy-<stage> and carrying that stage's deploy policy."
  }

  assert {
    condition = alltrue([
      for s in ["dev", "staging", "prod"] :
      flatten([for st in jsondecode(aws_iam_role_policy.codebuild_deploy[s].policy).Statement : flatten([st.Resource]) if contains(flatten([st.Action]), "iam:PassRole")]) == [module.stage_roles.execution_roles[s].arn]
      && flatten([for st in jsondecode(aws_iam_role_policy.codebuild_deploy[s].policy).Statement : flatten([st.Resource]) if contains(flatten([st.Action]), "cloudformation:CreateChangeSet")]) == ["arn:aws:cloudformation:us-east-1:111111111111:stack/countries-${s}/*"]
      && flatten([for st in jsondecode(aws_iam_role_policy.codebuild_deploy[s].policy).Statement : flatten([st.Condition.ArnEquals["cloudformation:RoleArn"]]) if contains(flatten([st.Action]), "cloudformation:CreateChangeSet")]) == [module.stage_roles.execution_roles[s].arn]
    ])
    error_message = "A stage's deploy role may pass only that stage's execution role, and create change sets only on countries-<stage> with that role."
  }

  assert {
    condition = length(flatten([
      for p in concat(values(aws_iam_role_policy.codebuild_common), [aws_iam_role_policy.pipeline]) : [
        for st in jsondecode(p.policy).Statement : st.Sid
        if length([for a in flatten([st.Action]) : a if lower(a) == "iam:passrole" || startswith(lower(a), "cloudformation:")]) > 0
      ]
    ])) == 0
    error_message = "Only the deploy and pull-request policies may pass roles or use CloudFormation; the common CodeBuild policies and the pipeline's may not."
  }

  # --- defaults: no Allow statement grants a wildcard action (nor uses NotAction), in any policy
  assert {
    condition = length(flatten([
      for at, doc in merge(
        { for k, r in module.stage_roles.execution_roles : "module.stage_roles.aws_iam_role_policy.cloudformation[${k}]" => r.policy },
        { for k, r in module.stage_roles.execution_roles : "module.stage_roles.aws_iam_role_policy.cloudformation_releases[${k}]" => r.releases_policy },
        { for k, r in module.stage_roles.codedeploy_roles : "module.stage_roles.aws_iam_role_policy.codedeploy[${k}]" => r.policy },
        { for k, r in module.stage_roles.codedeploy_roles : "module.stage_roles.aws_iam_role.codedeploy[${k}]" => r.assume_role_policy },
        { for i, r in aws_iam_role_policy.pull_request_github_token : "aws_iam_role_policy.pull_request_github_token[${i}]" => r.policy },
        { for k, r in aws_iam_role_policy.codebuild_common : "aws_iam_role_policy.codebuild_common[${k}]" => r.policy },
        { for k, r in aws_iam_role_policy.codebuild_deploy : "aws_iam_role_policy.codebuild_deploy[${k}]" => r.policy },
        { for i, r in aws_iam_role_policy.codebuild_pull_request : "aws_iam_role_policy.codebuild_pull_request[${i}]" => r.policy },
        { "aws_iam_role_policy.pipeline" = aws_iam_role_policy.pipeline.policy },
        { for k, r in module.stage_roles.function_boundaries : "module.stage_roles.aws_iam_policy.function_boundary[${k}]" => r.policy },
        { for k, r in module.stage_roles.execution_roles : "module.stage_roles.aws_iam_role.cloudformation[${k}]" => r.assume_role_policy },
        { for k, r in aws_iam_role.codebuild : "aws_iam_role.codebuild[${k}]" => r.assume_role_policy },
        { "aws_iam_role.pipeline" = aws_iam_role.pipeline.assume_role_policy },
        { "aws_kms_key.delivery" = aws_kms_key.delivery.policy },
        { "aws_s3_bucket_policy.artifacts" = aws_s3_bucket_policy.artifacts.policy },
        { "aws_s3_bucket_policy.access_logs" = aws_s3_bucket_policy.access_logs.policy },
        { "aws_sns_topic_policy.notifications" = aws_sns_topic_policy.notifications.policy },
        ) : [
        for st in jsondecode(doc).Statement : [
          for a in flatten([try(st.Action, "NotAction")]) : "${at} ${try(st.Sid, "")}: ${a}"
          if strcontains(a, "*") || a == "NotAction"
        ] if st.Effect == "Allow"
      ]
    ])) == 0
    error_message = <<-EOT
      Allow statements must name their actions: no "*", "service:*", pattern or NotAction. Found: ${join("; ", flatten([
    for at, doc in merge(
      { for k, r in module.stage_roles.execution_roles : "module.stage_roles.aws_iam_role_policy.cloudformation[${k}]" => r.policy },
      { for k, r in module.stage_roles.execution_roles : "module.stage_roles.aws_iam_role_policy.cloudformation_releases[${k}]" => r.releases_policy },
      { for k, r in module.stage_roles.codedeploy_roles : "module.stage_roles.aws_iam_role_policy.codedeploy[${k}]" => r.policy },
      { for k, r in module.stage_roles.codedeploy_roles : "module.stage_roles.aws_iam_role.codedeploy[${k}]" => r.assume_role_policy },
      { for i, r in aws_iam_role_policy.pull_request_github_token : "aws_iam_role_policy.pull_request_github_token[${i}]" => r.policy },
      { for k, r in aws_iam_role_policy.codebuild_common : "aws_iam_role_policy.codebuild_common[${k}]" => r.policy },
      { for k, r in aws_iam_role_policy.codebuild_deploy : "aws_iam_role_policy.codebuild_deploy[${k}]" => r.policy },
      { for i, r in aws_iam_role_policy.codebuild_pull_request : "aws_iam_role_policy.codebuild_pull_request[${i}]" => r.policy },
      { "aws_iam_role_policy.pipeline" = aws_iam_role_policy.pipeline.policy },
      { for k, r in module.stage_roles.function_boundaries : "module.stage_roles.aws_iam_policy.function_boundary[${k}]" => r.policy },
      { for k, r in module.stage_roles.execution_roles : "module.stage_roles.aws_iam_role.cloudformation[${k}]" => r.assume_role_policy },
      { for k, r in aws_iam_role.codebuild : "aws_iam_role.codebuild[${k}]" => r.assume_role_policy },
      { "aws_iam_role.pipeline" = aws_iam_role.pipeline.assume_role_policy },
      { "aws_kms_key.delivery" = aws_kms_key.delivery.policy },
      { "aws_s3_bucket_policy.artifacts" = aws_s3_bucket_policy.artifacts.policy },
      { "aws_s3_bucket_policy.access_logs" = aws_s3_bucket_policy.access_logs.policy },
      { "aws_sns_topic_policy.notifications" = aws_sns_topic_policy.notifications.policy },
      ) : [
      for st in jsondecode(doc).Statement : [
        for a in flatten([try(st.Action, "NotAction")]) : "${at} ${try(st.Sid, "")}: ${a}"
        if strcontains(a, "*") || a == "NotAction"
      ] if st.Effect == "Allow"
    ]
]))}
    EOT
}

# --- defaults: every policy under its size limit (AWS counts characters without whitespace: the minified JSON)
assert {
  condition = alltrue([
    for role, sizes in {
      for p in concat([for r in values(module.stage_roles.execution_roles) : { role = r.policy_role, policy = r.policy }], [for r in values(module.stage_roles.execution_roles) : { role = r.releases_role, policy = r.releases_policy }], [for r in values(module.stage_roles.codedeploy_roles) : { role = r.policy_role, policy = r.policy }], aws_iam_role_policy.pull_request_github_token, values(aws_iam_role_policy.codebuild_common), values(aws_iam_role_policy.codebuild_deploy), aws_iam_role_policy.codebuild_pull_request, [aws_iam_role_policy.pipeline]) :
      p.role => length(jsonencode(jsondecode(p.policy)))...
    } : sum(sizes) <= 10240
  ])
  error_message = "A role's inline policies together exceed IAM's 10,240 characters: ${jsonencode({ for role, sizes in { for p in concat([for r in values(module.stage_roles.execution_roles) : { role = r.policy_role, policy = r.policy }], [for r in values(module.stage_roles.execution_roles) : { role = r.releases_role, policy = r.releases_policy }], [for r in values(module.stage_roles.codedeploy_roles) : { role = r.policy_role, policy = r.policy }], aws_iam_role_policy.pull_request_github_token, values(aws_iam_role_policy.codebuild_common), values(aws_iam_role_policy.codebuild_deploy), aws_iam_role_policy.codebuild_pull_request, [aws_iam_role_policy.pipeline]) : p.role => length(jsonencode(jsondecode(p.policy)))... } : role => sum(sizes) })}"
}

assert {
  condition     = alltrue([for p in module.stage_roles.function_boundaries : length(jsonencode(jsondecode(p.policy))) <= 6144])
  error_message = "A managed policy exceeds IAM's 6,144 characters: ${jsonencode({ for k, p in module.stage_roles.function_boundaries : k => length(jsonencode(jsondecode(p.policy))) })}"
}

assert {
  condition     = alltrue([for r in concat(values(module.stage_roles.execution_roles), values(module.stage_roles.codedeploy_roles), values(aws_iam_role.codebuild), [aws_iam_role.pipeline]) : length(jsonencode(jsondecode(r.assume_role_policy))) <= 2048])
  error_message = "A role trust policy exceeds IAM's 2,048 characters: ${jsonencode({ for r in concat(values(module.stage_roles.execution_roles), values(module.stage_roles.codedeploy_roles), values(aws_iam_role.codebuild), [aws_iam_role.pipeline]) : r.name => length(jsonencode(jsondecode(r.assume_role_policy))) })}"
}

assert {
  condition = (
    length(jsonencode(jsondecode(aws_kms_key.delivery.policy))) <= 32768
    && length(jsonencode(jsondecode(aws_s3_bucket_policy.artifacts.policy))) <= 20480
    && length(jsonencode(jsondecode(aws_s3_bucket_policy.access_logs.policy))) <= 20480
    && length(jsonencode(jsondecode(aws_sns_topic_policy.notifications.policy))) <= 30720
  )
  error_message = "A resource policy exceeds its service's limit (KMS key policy 32 KB, S3 bucket policy 20 KB, SNS topic policy 30 KB)."
}

# The committed example outputs (what stages/*.yaml render generated/ with)
# are what this foundation outputs.
assert {
  condition = jsonencode({ for name, o in jsondecode(file("outputs.example.json")) : name => o.value }) == jsonencode({
    artifact_bucket                    = output.artifact_bucket
    alarm_topic_arn                    = output.alarm_topic_arn
    cloudformation_execution_role_arns = output.cloudformation_execution_role_arns
    codedeploy_role_arns               = output.codedeploy_role_arns
    github_token_secret_arn            = output.github_token_secret_arn
    pipeline_name                      = output.pipeline_name
    stage_alarm_topic_arns             = output.stage_alarm_topic_arns
  })
  error_message = "infrastructure/outputs.example.json no longer matches the outputs this configuration renders for account 111111111111 in us-east-1: ${jsonencode({ artifact_bucket = output.artifact_bucket, alarm_topic_arn = output.alarm_topic_arn, cloudformation_execution_role_arns = output.cloudformation_execution_role_arns, codedeploy_role_arns = output.codedeploy_role_arns, github_token_secret_arn = output.github_token_secret_arn, pipeline_name = output.pipeline_name, stage_alarm_topic_arns = output.stage_alarm_topic_arns })}"
}

# One account (stage_accounts empty): nothing in another account is granted anything.
assert {
  condition = (
    [for st in jsondecode(aws_s3_bucket_policy.artifacts.policy).Statement : st.Sid] == ["DenyInsecureTransport", "DenyOldTls"]
    && [for st in jsondecode(aws_kms_key.delivery.policy).Statement : st.Sid] == ["AccountAdministersKey", "CloudWatchAlarmsPublishToTopic", "CodeStarNotificationsPublishToTopic", "CloudWatchLogsEncryptBuildLogs"]
    && length(output.stage_alarm_topic_arns) == 0
    && alltrue([for p in values(aws_iam_role_policy.codebuild_deploy) : !strcontains(p.policy, "sts:AssumeRole")])
  )
  error_message = "Without stage_accounts the bucket and key policies, the outputs and the deploy roles must be those of the one-account setup."
}

# CodeDeploy's role of a stage is trusted by CodeDeploy alone and shifts that
# stage's aliases only; the stage's execution role may pass it to CodeDeploy only.
assert {
  condition = alltrue([
    for s in ["dev", "staging", "prod"] :
    module.stage_roles.codedeploy_roles[s].name == "countries-delivery-${s}-codedeploy"
    && length(jsondecode(module.stage_roles.codedeploy_roles[s].assume_role_policy).Statement) == 1
    && jsondecode(module.stage_roles.codedeploy_roles[s].assume_role_policy).Statement[0].Principal.Service == "codedeploy.amazonaws.com"
    && jsondecode(module.stage_roles.codedeploy_roles[s].assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "111111111111"
    && module.stage_roles.codedeploy_roles[s].policy_role == module.stage_roles.codedeploy_roles[s].id
    && module.stage_roles.execution_roles[s].releases_role == module.stage_roles.execution_roles[s].id
  ]) && output.codedeploy_role_arns == tomap(module.stage_roles.codedeploy_role_arns)
  error_message = "Each stage's CodeDeploy role countries-delivery-<stage>-codedeploy must be trusted by codedeploy.amazonaws.com of this account alone, carry its own policy, and be the output codedeploy_role_arns; the releases policy belongs to the stage's execution role: ${jsonencode(output.codedeploy_role_arns)}"
}

assert {
  condition     = alltrue([for s in ["dev", "staging", "prod"] : toset(one([for st in jsondecode(module.stage_roles.codedeploy_roles[s].policy).Statement : st.Resource if st.Sid == "ShiftLiveAliases"])) == toset(["arn:aws:lambda:us-east-1:111111111111:function:countries-*-${s}", "arn:aws:lambda:us-east-1:111111111111:function:countries-*-${s}:*"])])
  error_message = "A CodeDeploy role must shift only its own stage's aliases: ${jsonencode({ for s in ["dev", "staging", "prod"] : s => jsondecode(module.stage_roles.codedeploy_roles[s].policy) })}"
}

assert {
  condition     = alltrue([for s in ["dev", "staging", "prod"] : jsonencode(one([for st in jsondecode(module.stage_roles.execution_roles[s].releases_policy).Statement : st if st.Sid == "PassCodeDeployRole"])) == jsonencode({ Action = "iam:PassRole", Condition = { StringEquals = { "iam:PassedToService" = "codedeploy.amazonaws.com" } }, Effect = "Allow", Resource = module.stage_roles.codedeploy_roles[s].arn, Sid = "PassCodeDeployRole" })])
  error_message = "A stage's execution role may pass its own CodeDeploy role, to CodeDeploy only: ${jsonencode({ for s in ["dev", "staging", "prod"] : s => jsondecode(module.stage_roles.execution_roles[s].releases_policy) })}"
}

# The pull-request role reads the GitHub token's secret and no other.
assert {
  condition     = jsondecode(aws_iam_role_policy.pull_request_github_token[0].policy).Statement[0].Resource == aws_secretsmanager_secret.github_token.arn && aws_secretsmanager_secret.github_token.kms_key_id == aws_kms_key.delivery.arn
  error_message = "The pull-request role must read exactly the GitHub token secret, encrypted with the delivery key."
}

# Pull requests are planned against every stage, each stack with its own execution role.
assert {
  condition = {
    for st in jsondecode(aws_iam_role_policy.codebuild_pull_request[0].policy).Statement :
    one(flatten([st.Resource])) => one(flatten([st.Condition.ArnEquals["cloudformation:RoleArn"]]))
    if contains(flatten([st.Action]), "cloudformation:CreateChangeSet")
    } == {
    for s in ["dev", "staging", "prod"] :
    "arn:aws:cloudformation:us-east-1:111111111111:stack/countries-${s}/*" => module.stage_roles.execution_roles[s].arn
  }
  error_message = "The pull-request role must create change sets on each planned stack with that stack's own execution role only."
}

# Without the boundary switch, no execution-role statement names a boundary.
assert {
  condition     = !strcontains(module.stage_roles.execution_roles["dev"].policy, "iam:PermissionsBoundary")
  error_message = "enforce_function_permissions_boundary is false by default: the execution roles must not require a permissions boundary yet."
}
}

# --- a variant: boundary enforced, pull requests planned against staging only --

run "boundary_enforced_pull_requests_for_staging" {
  command = apply

  variables {
    enforce_function_permissions_boundary = true
    pull_request_plan_stages              = ["staging"]
    notification_email                    = "oncall@example.org"
  }

  # --- variant: the pipeline runs Source -> Build -> dev -> staging -> approval -> prod
  assert {
    condition = flatten([
      for s in aws_codepipeline.delivery.stage : [for a in s.action : "${s.name}/${a.category}:${a.name}"]
      ]) == [
      "Source/Source:Source",
      "Build/Build:Build",
      "dev/Build:Deploy",
      "staging/Build:Promote",
      "prod/Approval:Approve",
      "prod/Build:Promote",
    ]
    error_message = "The delivery pipeline's stages and actions are not Source -> Build -> dev (Deploy) -> staging (Promote) -> prod (Approve, then Promote): ${jsonencode([for s in aws_codepipeline.delivery.stage : { (s.name) = [for a in s.action : "${a.category}:${a.name}"] }])}"
  }

  assert {
    condition     = [for a in one([for s in aws_codepipeline.delivery.stage : s if s.name == "prod"]).action : "${a.name}@${a.run_order}"] == ["Approve@1", "Promote@2"]
    error_message = "prod must run its approval first (run_order 1) and promote after it (run_order 2): ${jsonencode([for a in one([for s in aws_codepipeline.delivery.stage : s if s.name == "prod"]).action : "${a.name}@${a.run_order}"])}"
  }

  assert {
    condition = alltrue([
      for s in aws_codepipeline.delivery.stage : alltrue([
        for a in s.action :
        a.configuration.ProjectName == aws_codebuild_project.this["deploy-${s.name}"].name
        && contains(jsondecode(a.configuration.EnvironmentVariables), { name = "DEPLOY_STAGE", value = s.name, type = "PLAINTEXT" })
        && contains(a.input_artifacts, "package")
        if a.category == "Build"
      ]) if contains(["dev", "staging", "prod"], s.name)
    ])
    error_message = "Each stage's Deploy/Promote action must run that stage's deploy project (countries-deploy-<stage>) with DEPLOY_STAGE=<stage> on the Build's package artifact."
  }

  # --- variant: one execution role per stage, attached to its stack and to nothing else
  assert {
    condition     = toset(keys(module.stage_roles.execution_roles)) == toset(["dev", "staging", "prod"]) && length(distinct([for r in module.stage_roles.execution_roles : r.arn])) == 3
    error_message = "Expected exactly one CloudFormation execution role for each of dev, staging and prod; got ${jsonencode(keys(module.stage_roles.execution_roles))}."
  }

  assert {
    condition     = output.cloudformation_execution_role_arns == tomap({ for s, r in module.stage_roles.execution_roles : s => r.arn })
    error_message = "The output cloudformation_execution_role_arns must map each stage to its own execution role: ${jsonencode(output.cloudformation_execution_role_arns)}"
  }

  assert {
    condition = alltrue([
      for s, r in module.stage_roles.execution_roles :
      r.name == "countries-delivery-${s}-cloudformation"
      && jsondecode(r.assume_role_policy).Statement[*].Principal.Service == ["cloudformation.amazonaws.com"]
      && r.policy_role == r.id
      && length([for p in concat(values(aws_iam_role_policy.codebuild_common), values(aws_iam_role_policy.codebuild_deploy), aws_iam_role_policy.codebuild_pull_request, [aws_iam_role_policy.pipeline]) : p if p.role == r.id]) == 0
    ])
    error_message = "Each execution role countries-delivery-<stage>-cloudformation must be assumable by CloudFormation only and carry exactly one inline policy, its stage's."
  }

  # --- variant: one deploy role per stage; it may create change sets on its own stack only, with its own execution role only
  assert {
    condition = alltrue([
      for s in ["dev", "staging", "prod"] :
      aws_codebuild_project.this["deploy-${s}"].service_role == aws_iam_role.codebuild["deploy-${s}"].arn
      && aws_iam_role.codebuild["deploy-${s}"].name == "countries-delivery-${s}-deploy"
      && aws_iam_role_policy.codebuild_deploy[s].role == aws_iam_role.codebuild["deploy-${s}"].id
    ]) && length(distinct([for s in ["dev", "staging", "prod"] : aws_iam_role.codebuild["deploy-${s}"].arn])) == 3
    error_message = "Each stage needs its own deploy role countries-delivery-<stage>-deploy, used by the project countries-deploy-<stage> and carrying that stage's deploy policy."
  }

  assert {
    condition = alltrue([
      for s in ["dev", "staging", "prod"] :
      flatten([for st in jsondecode(aws_iam_role_policy.codebuild_deploy[s].policy).Statement : flatten([st.Resource]) if contains(flatten([st.Action]), "iam:PassRole")]) == [module.stage_roles.execution_roles[s].arn]
      && flatten([for st in jsondecode(aws_iam_role_policy.codebuild_deploy[s].policy).Statement : flatten([st.Resource]) if contains(flatten([st.Action]), "cloudformation:CreateChangeSet")]) == ["arn:aws:cloudformation:us-east-1:111111111111:stack/countries-${s}/*"]
      && flatten([for st in jsondecode(aws_iam_role_policy.codebuild_deploy[s].policy).Statement : flatten([st.Condition.ArnEquals["cloudformation:RoleArn"]]) if contains(flatten([st.Action]), "cloudformation:CreateChangeSet")]) == [module.stage_roles.execution_roles[s].arn]
    ])
    error_message = "A stage's deploy role may pass only that stage's execution role, and create change sets only on countries-<stage> with that role."
  }

  assert {
    condition = length(flatten([
      for p in concat(values(aws_iam_role_policy.codebuild_common), [aws_iam_role_policy.pipeline]) : [
        for st in jsondecode(p.policy).Statement : st.Sid
        if length([for a in flatten([st.Action]) : a if lower(a) == "iam:passrole" || startswith(lower(a), "cloudformation:")]) > 0
      ]
    ])) == 0
    error_message = "Only the deploy and pull-request policies may pass roles or use CloudFormation; the common CodeBuild policies and the pipeline's may not."
  }

  # --- variant: no Allow statement grants a wildcard action (nor uses NotAction), in any policy
  assert {
    condition = length(flatten([
      for at, doc in merge(
        { for k, r in module.stage_roles.execution_roles : "module.stage_roles.aws_iam_role_policy.cloudformation[${k}]" => r.policy },
        { for k, r in module.stage_roles.execution_roles : "module.stage_roles.aws_iam_role_policy.cloudformation_releases[${k}]" => r.releases_policy },
        { for k, r in module.stage_roles.codedeploy_roles : "module.stage_roles.aws_iam_role_policy.codedeploy[${k}]" => r.policy },
        { for k, r in module.stage_roles.codedeploy_roles : "module.stage_roles.aws_iam_role.codedeploy[${k}]" => r.assume_role_policy },
        { for i, r in aws_iam_role_policy.pull_request_github_token : "aws_iam_role_policy.pull_request_github_token[${i}]" => r.policy },
        { for k, r in aws_iam_role_policy.codebuild_common : "aws_iam_role_policy.codebuild_common[${k}]" => r.policy },
        { for k, r in aws_iam_role_policy.codebuild_deploy : "aws_iam_role_policy.codebuild_deploy[${k}]" => r.policy },
        { for i, r in aws_iam_role_policy.codebuild_pull_request : "aws_iam_role_policy.codebuild_pull_request[${i}]" => r.policy },
        { "aws_iam_role_policy.pipeline" = aws_iam_role_policy.pipeline.policy },
        { for k, r in module.stage_roles.function_boundaries : "module.stage_roles.aws_iam_policy.function_boundary[${k}]" => r.policy },
        { for k, r in module.stage_roles.execution_roles : "module.stage_roles.aws_iam_role.cloudformation[${k}]" => r.assume_role_policy },
        { for k, r in aws_iam_role.codebuild : "aws_iam_role.codebuild[${k}]" => r.assume_role_policy },
        { "aws_iam_role.pipeline" = aws_iam_role.pipeline.assume_role_policy },
        { "aws_kms_key.delivery" = aws_kms_key.delivery.policy },
        { "aws_s3_bucket_policy.artifacts" = aws_s3_bucket_policy.artifacts.policy },
        { "aws_s3_bucket_policy.access_logs" = aws_s3_bucket_policy.access_logs.policy },
        { "aws_sns_topic_policy.notifications" = aws_sns_topic_policy.notifications.policy },
        ) : [
        for st in jsondecode(doc).Statement : [
          for a in flatten([try(st.Action, "NotAction")]) : "${at} ${try(st.Sid, "")}: ${a}"
          if strcontains(a, "*") || a == "NotAction"
        ] if st.Effect == "Allow"
      ]
    ])) == 0
    error_message = <<-EOT
      Allow statements must name their actions: no "*", "service:*", pattern or NotAction. Found: ${join("; ", flatten([
    for at, doc in merge(
      { for k, r in module.stage_roles.execution_roles : "module.stage_roles.aws_iam_role_policy.cloudformation[${k}]" => r.policy },
      { for k, r in module.stage_roles.execution_roles : "module.stage_roles.aws_iam_role_policy.cloudformation_releases[${k}]" => r.releases_policy },
      { for k, r in module.stage_roles.codedeploy_roles : "module.stage_roles.aws_iam_role_policy.codedeploy[${k}]" => r.policy },
      { for k, r in module.stage_roles.codedeploy_roles : "module.stage_roles.aws_iam_role.codedeploy[${k}]" => r.assume_role_policy },
      { for i, r in aws_iam_role_policy.pull_request_github_token : "aws_iam_role_policy.pull_request_github_token[${i}]" => r.policy },
      { for k, r in aws_iam_role_policy.codebuild_common : "aws_iam_role_policy.codebuild_common[${k}]" => r.policy },
      { for k, r in aws_iam_role_policy.codebuild_deploy : "aws_iam_role_policy.codebuild_deploy[${k}]" => r.policy },
      { for i, r in aws_iam_role_policy.codebuild_pull_request : "aws_iam_role_policy.codebuild_pull_request[${i}]" => r.policy },
      { "aws_iam_role_policy.pipeline" = aws_iam_role_policy.pipeline.policy },
      { for k, r in module.stage_roles.function_boundaries : "module.stage_roles.aws_iam_policy.function_boundary[${k}]" => r.policy },
      { for k, r in module.stage_roles.execution_roles : "module.stage_roles.aws_iam_role.cloudformation[${k}]" => r.assume_role_policy },
      { for k, r in aws_iam_role.codebuild : "aws_iam_role.codebuild[${k}]" => r.assume_role_policy },
      { "aws_iam_role.pipeline" = aws_iam_role.pipeline.assume_role_policy },
      { "aws_kms_key.delivery" = aws_kms_key.delivery.policy },
      { "aws_s3_bucket_policy.artifacts" = aws_s3_bucket_policy.artifacts.policy },
      { "aws_s3_bucket_policy.access_logs" = aws_s3_bucket_policy.access_logs.policy },
      { "aws_sns_topic_policy.notifications" = aws_sns_topic_policy.notifications.policy },
      ) : [
      for st in jsondecode(doc).Statement : [
        for a in flatten([try(st.Action, "NotAction")]) : "${at} ${try(st.Sid, "")}: ${a}"
        if strcontains(a, "*") || a == "NotAction"
      ] if st.Effect == "Allow"
    ]
]))}
    EOT
}

# --- variant: every policy under its size limit (AWS counts characters without whitespace: the minified JSON)
assert {
  condition = alltrue([
    for role, sizes in {
      for p in concat([for r in values(module.stage_roles.execution_roles) : { role = r.policy_role, policy = r.policy }], [for r in values(module.stage_roles.execution_roles) : { role = r.releases_role, policy = r.releases_policy }], [for r in values(module.stage_roles.codedeploy_roles) : { role = r.policy_role, policy = r.policy }], aws_iam_role_policy.pull_request_github_token, values(aws_iam_role_policy.codebuild_common), values(aws_iam_role_policy.codebuild_deploy), aws_iam_role_policy.codebuild_pull_request, [aws_iam_role_policy.pipeline]) :
      p.role => length(jsonencode(jsondecode(p.policy)))...
    } : sum(sizes) <= 10240
  ])
  error_message = "A role's inline policies together exceed IAM's 10,240 characters: ${jsonencode({ for role, sizes in { for p in concat([for r in values(module.stage_roles.execution_roles) : { role = r.policy_role, policy = r.policy }], [for r in values(module.stage_roles.execution_roles) : { role = r.releases_role, policy = r.releases_policy }], [for r in values(module.stage_roles.codedeploy_roles) : { role = r.policy_role, policy = r.policy }], aws_iam_role_policy.pull_request_github_token, values(aws_iam_role_policy.codebuild_common), values(aws_iam_role_policy.codebuild_deploy), aws_iam_role_policy.codebuild_pull_request, [aws_iam_role_policy.pipeline]) : p.role => length(jsonencode(jsondecode(p.policy)))... } : role => sum(sizes) })}"
}

assert {
  condition     = alltrue([for p in module.stage_roles.function_boundaries : length(jsonencode(jsondecode(p.policy))) <= 6144])
  error_message = "A managed policy exceeds IAM's 6,144 characters: ${jsonencode({ for k, p in module.stage_roles.function_boundaries : k => length(jsonencode(jsondecode(p.policy))) })}"
}

assert {
  condition     = alltrue([for r in concat(values(module.stage_roles.execution_roles), values(module.stage_roles.codedeploy_roles), values(aws_iam_role.codebuild), [aws_iam_role.pipeline]) : length(jsonencode(jsondecode(r.assume_role_policy))) <= 2048])
  error_message = "A role trust policy exceeds IAM's 2,048 characters: ${jsonencode({ for r in concat(values(module.stage_roles.execution_roles), values(module.stage_roles.codedeploy_roles), values(aws_iam_role.codebuild), [aws_iam_role.pipeline]) : r.name => length(jsonencode(jsondecode(r.assume_role_policy))) })}"
}

assert {
  condition = (
    length(jsonencode(jsondecode(aws_kms_key.delivery.policy))) <= 32768
    && length(jsonencode(jsondecode(aws_s3_bucket_policy.artifacts.policy))) <= 20480
    && length(jsonencode(jsondecode(aws_s3_bucket_policy.access_logs.policy))) <= 20480
    && length(jsonencode(jsondecode(aws_sns_topic_policy.notifications.policy))) <= 30720
  )
  error_message = "A resource policy exceeds its service's limit (KMS key policy 32 KB, S3 bucket policy 20 KB, SNS topic policy 30 KB)."
}

# Every statement that lets an execution role create a role, write its
# policies or attach managed ones requires that stage's boundary.
assert {
  condition = alltrue([
    for s in ["dev", "staging", "prod"] : alltrue([
      for st in jsondecode(module.stage_roles.execution_roles[s].policy).Statement :
      try(st.Condition.StringEquals["iam:PermissionsBoundary"], null) == "arn:aws:iam::111111111111:policy/countries-${s}-function-boundary"
      if length(setintersection(toset(flatten([st.Action])), toset(["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary"]))) > 0
    ])
  ])
  error_message = "With enforce_function_permissions_boundary, every role-writing statement of an execution role must require countries-<stage>-function-boundary."
}

assert {
  condition = (
    flatten([for st in jsondecode(aws_iam_role_policy.codebuild_pull_request[0].policy).Statement : flatten([st.Resource]) if contains(flatten([st.Action]), "iam:PassRole")]) == [module.stage_roles.execution_roles["staging"].arn]
    && flatten([for st in jsondecode(aws_iam_role_policy.codebuild_pull_request[0].policy).Statement : flatten([st.Resource]) if contains(flatten([st.Action]), "cloudformation:CreateChangeSet")]) == ["arn:aws:cloudformation:us-east-1:111111111111:stack/countries-staging/*"]
  )
  error_message = "Planning pull requests against staging only must let the pull-request role pass staging's execution role only, and create change sets on countries-staging only."
}
}

# --- pull requests off: no pull-request role, project or pipeline --------------

run "pull_requests_off" {
  command = apply

  variables {
    pull_request_plan_stages = []
  }

  assert {
    condition     = length(aws_codepipeline.pull_request) == 0 && !contains(keys(aws_iam_role.codebuild), "pull-request") && !contains(keys(aws_codebuild_project.this), "pull-request") && length(aws_iam_role_policy.codebuild_pull_request) == 0
    error_message = "pull_request_plan_stages = [] must create no pull-request pipeline, project, role or policy (forked pull requests would run with it)."
  }

  assert {
    condition     = toset(keys(module.stage_roles.execution_roles)) == toset(["dev", "staging", "prod"]) && toset(keys(aws_iam_role.codebuild)) == toset(["build", "deploy-dev", "deploy-staging", "deploy-prod"])
    error_message = "Without pull requests there are still one execution role and one deploy role per stage, plus the build role: ${jsonencode(keys(aws_iam_role.codebuild))}"
  }
}

# --- one account per stage: every stage in an account of its own ----------------
# (the stage_accounts entries are what infrastructure/stage-account outputs as
# tooling_inputs; its own tests check the roles on that side)

run "multi_account" {
  command = apply

  variables {
    pull_request_plan_stages = []
    stage_accounts = {
      dev = {
        account_id          = "222222222222"
        execution_role_arn  = "arn:aws:iam::222222222222:role/countries-delivery-dev-cloudformation"
        deploy_role_arn     = "arn:aws:iam::222222222222:role/countries-delivery-dev-deployer"
        reader_role_arn     = "arn:aws:iam::222222222222:role/countries-delivery-dev-reader"
        alarm_topic_arn     = "arn:aws:sns:us-east-1:222222222222:countries-dev-alarms"
        codedeploy_role_arn = "arn:aws:iam::222222222222:role/countries-delivery-dev-codedeploy"
      }
      staging = {
        account_id          = "333333333333"
        execution_role_arn  = "arn:aws:iam::333333333333:role/countries-delivery-staging-cloudformation"
        deploy_role_arn     = "arn:aws:iam::333333333333:role/countries-delivery-staging-deployer"
        reader_role_arn     = "arn:aws:iam::333333333333:role/countries-delivery-staging-reader"
        alarm_topic_arn     = "arn:aws:sns:us-east-1:333333333333:countries-staging-alarms"
        codedeploy_role_arn = "arn:aws:iam::333333333333:role/countries-delivery-staging-codedeploy"
      }
      prod = {
        account_id          = "444444444444"
        execution_role_arn  = "arn:aws:iam::444444444444:role/countries-delivery-prod-cloudformation"
        deploy_role_arn     = "arn:aws:iam::444444444444:role/countries-delivery-prod-deployer"
        alarm_topic_arn     = "arn:aws:sns:us-east-1:444444444444:countries-prod-alarms"
        codedeploy_role_arn = "arn:aws:iam::444444444444:role/countries-delivery-prod-codedeploy"
      }
    }
  }

  # --- multi_account: the pipeline still runs Source -> Build -> dev -> staging -> approval -> prod from this account
  assert {
    condition = flatten([
      for s in aws_codepipeline.delivery.stage : [for a in s.action : "${s.name}/${a.category}:${a.name}"]
      ]) == [
      "Source/Source:Source",
      "Build/Build:Build",
      "dev/Build:Deploy",
      "staging/Build:Promote",
      "prod/Approval:Approve",
      "prod/Build:Promote",
    ] && [for a in one([for s in aws_codepipeline.delivery.stage : s if s.name == "prod"]).action : "${a.name}@${a.run_order}"] == ["Approve@1", "Promote@2"]
    error_message = "With stage accounts, the delivery pipeline must still run Source -> Build -> dev -> staging -> approval -> prod: ${jsonencode([for s in aws_codepipeline.delivery.stage : { (s.name) = [for a in s.action : "${a.category}:${a.name}"] }])}"
  }

  # --- multi_account: no execution role or boundary here; the outputs name the stage accounts' roles and topics
  assert {
    condition = (
      length(module.stage_roles.execution_roles) == 0 && length(module.stage_roles.function_boundaries) == 0
      && length(module.stage_roles.codedeploy_roles) == 0
      && output.cloudformation_execution_role_arns == tomap({ for s, a in var.stage_accounts : s => a.execution_role_arn })
      && output.codedeploy_role_arns == tomap({ for s, a in var.stage_accounts : s => a.codedeploy_role_arn })
      && output.stage_alarm_topic_arns == tomap({ for s, a in var.stage_accounts : s => a.alarm_topic_arn })
    )
    error_message = "Stages in their own account get no execution or CodeDeploy role here, and the outputs must name their accounts' execution roles, CodeDeploy roles and alarm topics: ${jsonencode(output.cloudformation_execution_role_arns)} ${jsonencode(output.codedeploy_role_arns)} ${jsonencode(output.stage_alarm_topic_arns)}"
  }

  # --- multi_account: each CodeBuild deploy role may assume exactly its stage's deploy role (and its predecessor's reader role), and uses no CloudFormation itself
  assert {
    condition = {
      for s in ["dev", "staging", "prod"] : s => flatten([
        for st in jsondecode(aws_iam_role_policy.codebuild_deploy[s].policy).Statement : flatten([st.Resource]) if contains(flatten([st.Action]), "sts:AssumeRole")
      ])
      } == {
      dev     = ["arn:aws:iam::222222222222:role/countries-delivery-dev-deployer"]
      staging = ["arn:aws:iam::333333333333:role/countries-delivery-staging-deployer", "arn:aws:iam::222222222222:role/countries-delivery-dev-reader"]
      prod    = ["arn:aws:iam::444444444444:role/countries-delivery-prod-deployer", "arn:aws:iam::333333333333:role/countries-delivery-staging-reader"]
    }
    error_message = "Each stage's deploy role must assume exactly its stage account's deploy role and its predecessor's reader role: ${jsonencode({ for s in ["dev", "staging", "prod"] : s => [for st in jsondecode(aws_iam_role_policy.codebuild_deploy[s].policy).Statement : st.Resource if contains(flatten([st.Action]), "sts:AssumeRole")] })}"
  }

  assert {
    condition = alltrue([
      for s in ["dev", "staging", "prod"] : length([
        for a in flatten([for st in jsondecode(aws_iam_role_policy.codebuild_deploy[s].policy).Statement : flatten([st.Action])]) : a
        if startswith(a, "cloudformation:") || a == "iam:PassRole"
      ]) == 0
    ])
    error_message = "A deploy role of a stage in its own account must reach CloudFormation only through the stage's deploy role there: no cloudformation:* or iam:PassRole here."
  }

  # --- multi_account: the bucket lets exactly the stage execution roles read the function zips, nothing more
  assert {
    condition = [
      for st in jsondecode(aws_s3_bucket_policy.artifacts.policy).Statement : {
        actions   = flatten([st.Action])
        resources = flatten([st.Resource])
        roles     = sort(flatten([st.Principal.AWS]))
      } if st.Effect == "Allow"
      ] == [{
        actions   = ["s3:GetObject"]
        resources = ["arn:aws:s3:::countries-artifacts-111111111111-us-east-1/functions/*"]
        roles     = sort([for a in values(var.stage_accounts) : a.execution_role_arn])
    }]
    error_message = "The artifact bucket may allow only s3:GetObject on functions/*, only to the stage accounts' execution roles: ${aws_s3_bucket_policy.artifacts.policy}"
  }

  assert {
    condition = alltrue([
      for sid, want in {
        StageAccountsOnlyReadObjects  = { NotAction = "s3:GetObject" }
        StageAccountsOnlyFunctionZips = { Action = "s3:GetObject", NotResource = "arn:aws:s3:::countries-artifacts-111111111111-us-east-1/functions/*" }
      } :
      one([
        for st in jsondecode(aws_s3_bucket_policy.artifacts.policy).Statement : st.Effect == "Deny"
        && st.Principal == "*"
        && sort(flatten([st.Condition.StringEquals["aws:PrincipalAccount"]])) == sort(["222222222222", "333333333333", "444444444444"])
        && alltrue([for k, v in want : st[k] == v])
        if st.Sid == sid
      ])
    ])
    error_message = "The artifact bucket must deny the stage accounts every action but s3:GetObject (no listing, no writing) and every object outside functions/: ${aws_s3_bucket_policy.artifacts.policy}"
  }

  # --- multi_account: the key lets exactly the stage execution roles decrypt, through S3, objects of the artifact bucket
  assert {
    condition = one([
      for st in jsondecode(aws_kms_key.delivery.policy).Statement : {
        roles     = sort(flatten([st.Principal.AWS]))
        actions   = flatten([st.Action])
        condition = st.Condition
      } if !contains(["", "arn:aws:iam::111111111111:root"], try(st.Principal.AWS, ""))
      ]) == {
      roles     = sort([for a in values(var.stage_accounts) : a.execution_role_arn])
      actions   = ["kms:Decrypt"]
      condition = { StringEquals = { "kms:ViaService" = "s3.us-east-1.amazonaws.com" }, StringLike = { "kms:EncryptionContext:aws:s3:arn" = ["arn:aws:s3:::countries-artifacts-111111111111-us-east-1", "arn:aws:s3:::countries-artifacts-111111111111-us-east-1/functions/*"] } }
    }
    error_message = "The delivery key may let the stage accounts' execution roles only decrypt, through S3, the artifact bucket's objects: ${aws_kms_key.delivery.policy}"
  }

  # --- multi_account: the committed example outputs (examples/multi-account renders from them) are what this renders
  assert {
    condition = jsonencode({ for name, o in jsondecode(file("outputs.multi-account.example.json")) : name => o.value }) == jsonencode({
      artifact_bucket                    = output.artifact_bucket
      alarm_topic_arn                    = output.alarm_topic_arn
      cloudformation_execution_role_arns = output.cloudformation_execution_role_arns
      codedeploy_role_arns               = output.codedeploy_role_arns
      github_token_secret_arn            = output.github_token_secret_arn
      pipeline_name                      = output.pipeline_name
      stage_alarm_topic_arns             = output.stage_alarm_topic_arns
    })
    error_message = "infrastructure/outputs.multi-account.example.json no longer matches the outputs this run renders: ${jsonencode({ artifact_bucket = output.artifact_bucket, alarm_topic_arn = output.alarm_topic_arn, cloudformation_execution_role_arns = output.cloudformation_execution_role_arns, codedeploy_role_arns = output.codedeploy_role_arns, github_token_secret_arn = output.github_token_secret_arn, pipeline_name = output.pipeline_name, stage_alarm_topic_arns = output.stage_alarm_topic_arns })}"
  }

  # --- multi_account: no Allow statement grants a wildcard action (nor uses NotAction), in any policy
  assert {
    condition = length(flatten([
      for at, doc in merge(
        { for k, r in aws_iam_role_policy.codebuild_common : "aws_iam_role_policy.codebuild_common[${k}]" => r.policy },
        { for k, r in aws_iam_role_policy.codebuild_deploy : "aws_iam_role_policy.codebuild_deploy[${k}]" => r.policy },
        { "aws_iam_role_policy.pipeline" = aws_iam_role_policy.pipeline.policy },
        { for k, r in aws_iam_role.codebuild : "aws_iam_role.codebuild[${k}]" => r.assume_role_policy },
        { "aws_kms_key.delivery" = aws_kms_key.delivery.policy },
        { "aws_s3_bucket_policy.artifacts" = aws_s3_bucket_policy.artifacts.policy },
        { "aws_sns_topic_policy.notifications" = aws_sns_topic_policy.notifications.policy },
        ) : [
        for st in jsondecode(doc).Statement : [
          for a in flatten([try(st.Action, "NotAction")]) : "${at} ${try(st.Sid, "")}: ${a}"
          if strcontains(a, "*") || a == "NotAction"
        ] if st.Effect == "Allow"
      ]
    ])) == 0
    error_message = "Allow statements must name their actions: no \"*\", \"service:*\", pattern or NotAction."
  }

  assert {
    condition = (
      length(jsonencode(jsondecode(aws_kms_key.delivery.policy))) <= 32768
      && length(jsonencode(jsondecode(aws_s3_bucket_policy.artifacts.policy))) <= 20480
    )
    error_message = "A resource policy exceeds its service's limit (KMS key policy 32 KB, S3 bucket policy 20 KB)."
  }
}

# --- mixed: dev and staging here, prod in its own account -------------------------

run "prod_in_its_own_account" {
  command = apply

  variables {
    pull_request_plan_stages = ["dev", "staging"]
    stage_accounts = {
      prod = {
        account_id          = "444444444444"
        execution_role_arn  = "arn:aws:iam::444444444444:role/countries-delivery-prod-cloudformation"
        deploy_role_arn     = "arn:aws:iam::444444444444:role/countries-delivery-prod-deployer"
        alarm_topic_arn     = "arn:aws:sns:us-east-1:444444444444:countries-prod-alarms"
        codedeploy_role_arn = "arn:aws:iam::444444444444:role/countries-delivery-prod-codedeploy"
      }
    }
  }

  assert {
    condition = (
      toset(keys(module.stage_roles.execution_roles)) == toset(["dev", "staging"])
      && output.cloudformation_execution_role_arns == tomap({
        dev     = "arn:aws:iam::111111111111:role/countries-delivery-dev-cloudformation"
        staging = "arn:aws:iam::111111111111:role/countries-delivery-staging-cloudformation"
        prod    = "arn:aws:iam::444444444444:role/countries-delivery-prod-cloudformation"
      })
      && toset(keys(module.stage_roles.codedeploy_roles)) == toset(["dev", "staging"])
      && output.codedeploy_role_arns == tomap({
        dev     = "arn:aws:iam::111111111111:role/countries-delivery-dev-codedeploy"
        staging = "arn:aws:iam::111111111111:role/countries-delivery-staging-codedeploy"
        prod    = "arn:aws:iam::444444444444:role/countries-delivery-prod-codedeploy"
      })
    )
    error_message = "dev and staging keep their execution and CodeDeploy roles here; prod's are in its account: ${jsonencode(output.cloudformation_execution_role_arns)} ${jsonencode(output.codedeploy_role_arns)}"
  }

  # prod assumes its deploy role and reads staging's stack here; staging reads dev's, here, as before
  assert {
    condition = (
      flatten([for st in jsondecode(aws_iam_role_policy.codebuild_deploy["prod"].policy).Statement : flatten([st.Resource]) if contains(flatten([st.Action]), "sts:AssumeRole")]) == ["arn:aws:iam::444444444444:role/countries-delivery-prod-deployer"]
      && flatten([for st in jsondecode(aws_iam_role_policy.codebuild_deploy["prod"].policy).Statement : flatten([st.Resource]) if contains(flatten([st.Action]), "cloudformation:DescribeStacks")]) == ["arn:aws:cloudformation:us-east-1:111111111111:stack/countries-staging/*"]
      && strcontains(aws_iam_role_policy.codebuild_deploy["prod"].policy, "cloudformation:CreateChangeSet") == false
      && flatten([for st in jsondecode(aws_iam_role_policy.codebuild_deploy["staging"].policy).Statement : flatten([st.Resource]) if contains(flatten([st.Action]), "iam:PassRole")]) == ["arn:aws:iam::111111111111:role/countries-delivery-staging-cloudformation"]
      && strcontains(aws_iam_role_policy.codebuild_deploy["staging"].policy, "sts:AssumeRole") == false
      && flatten([for st in jsondecode(aws_iam_role_policy.codebuild_deploy["staging"].policy).Statement : flatten([st.Resource]) if st.Sid == "ReadOtherStageStacks"]) == ["arn:aws:cloudformation:us-east-1:111111111111:stack/countries-dev/*"]
    )
    error_message = "prod's deploy role must assume only prod's deploy role and read staging's stack here; staging's deploy role works here as before, reading only dev's stack."
  }

  assert {
    condition     = length(aws_codepipeline.pull_request) == 1 && jsondecode(aws_codepipeline.pull_request[0].stage[1].action[0].configuration.EnvironmentVariables)[3].value == "dev staging"
    error_message = "Pull requests are still planned against the stages in this account."
  }
}

# --- what the variables refuse -------------------------------------------------------

run "refuses_pull_request_plans_in_a_stage_account" {
  command = plan

  variables {
    stage_accounts = {
      prod = {
        account_id          = "444444444444"
        execution_role_arn  = "arn:aws:iam::444444444444:role/countries-delivery-prod-cloudformation"
        deploy_role_arn     = "arn:aws:iam::444444444444:role/countries-delivery-prod-deployer"
        alarm_topic_arn     = "arn:aws:sns:us-east-1:444444444444:countries-prod-alarms"
        codedeploy_role_arn = "arn:aws:iam::444444444444:role/countries-delivery-prod-codedeploy"
      }
    }
  }

  expect_failures = [aws_codepipeline.pull_request]
}

run "refuses_a_stage_account_without_its_reader_role" {
  command = plan

  variables {
    pull_request_plan_stages = []
    stage_accounts = {
      dev = {
        account_id          = "222222222222"
        execution_role_arn  = "arn:aws:iam::222222222222:role/countries-delivery-dev-cloudformation"
        deploy_role_arn     = "arn:aws:iam::222222222222:role/countries-delivery-dev-deployer"
        alarm_topic_arn     = "arn:aws:sns:us-east-1:222222222222:countries-dev-alarms"
        codedeploy_role_arn = "arn:aws:iam::222222222222:role/countries-delivery-dev-codedeploy"
      }
    }
  }

  expect_failures = [var.stage_accounts]
}

run "refuses_a_role_in_another_account" {
  command = plan

  variables {
    pull_request_plan_stages = []
    stage_accounts = {
      prod = {
        account_id          = "444444444444"
        execution_role_arn  = "arn:aws:iam::444444444444:role/countries-delivery-prod-cloudformation"
        deploy_role_arn     = "arn:aws:iam::555555555555:role/countries-delivery-prod-deployer"
        alarm_topic_arn     = "arn:aws:sns:us-east-1:444444444444:countries-prod-alarms"
        codedeploy_role_arn = "arn:aws:iam::444444444444:role/countries-delivery-prod-codedeploy"
      }
    }
  }

  expect_failures = [var.stage_accounts]
}

run "refuses_a_codedeploy_role_in_another_account" {
  command = plan

  variables {
    pull_request_plan_stages = []
    stage_accounts = {
      prod = {
        account_id          = "444444444444"
        execution_role_arn  = "arn:aws:iam::444444444444:role/countries-delivery-prod-cloudformation"
        deploy_role_arn     = "arn:aws:iam::444444444444:role/countries-delivery-prod-deployer"
        alarm_topic_arn     = "arn:aws:sns:us-east-1:444444444444:countries-prod-alarms"
        codedeploy_role_arn = "arn:aws:iam::111111111111:role/countries-delivery-prod-codedeploy"
      }
    }
  }

  expect_failures = [var.stage_accounts]
}

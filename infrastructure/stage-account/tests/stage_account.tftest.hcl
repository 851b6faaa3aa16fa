# Tests of a stage account (infrastructure/stage-account): `terraform test`,
# which scripts/terraform.sh runs offline with the provider mirror, after
# infrastructure/'s own. tools/check_execution_roles.py then checks the
# execution role these runs render against the stage's stack, as it does the
# tooling account's.
#
# As in infrastructure/tests/delivery.tftest.hcl: no AWS account and no
# credentials; the real provider with fake keys; the data sources that would
# call AWS and EVERY managed resource overridden, with the ARNs they would
# have in the stage account 222222222222 (us-east-1), so `apply` calls
# nothing and the policy documents render for real. The tooling account is
# 111111111111, as in stages/*.yaml and infrastructure/outputs.example.json.
#
# What a reviewer relies on, asserted here: the deploy role trusts nothing
# broader than the tooling account's CodeBuild deploy role of its stage (and
# operators named exactly), with the external ids and organization when
# given; the reader role only the deploys promoted from this stage; the
# CodeDeploy role only this account's CodeDeploy; each may do only its
# stage's work; no Allow statement has a wildcard action.
#
# Adding a resource to infrastructure/stage-account/: add an override_resource
# for it below.

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

variables {
  aws_region         = "us-east-1"
  stage              = "dev"
  tooling_account_id = "111111111111"
}

override_data {
  target = data.aws_caller_identity.current
  values = { account_id = "222222222222", arn = "arn:aws:iam::222222222222:user/terraform-test", user_id = "AIDATERRAFORMTEST" }
}

# --- every managed resource (the stage-dependent ones per run) -------------------------

override_resource {
  target = module.stage_roles.aws_iam_role.cloudformation["dev"]
  values = { arn = "arn:aws:iam::222222222222:role/countries-delivery-dev-cloudformation", id = "countries-delivery-dev-cloudformation" }
}

override_resource {
  target = module.stage_roles.aws_iam_role.cloudformation["staging"]
  values = { arn = "arn:aws:iam::222222222222:role/countries-delivery-staging-cloudformation", id = "countries-delivery-staging-cloudformation" }
}

override_resource {
  target = module.stage_roles.aws_iam_role.cloudformation["prod"]
  values = { arn = "arn:aws:iam::222222222222:role/countries-delivery-prod-cloudformation", id = "countries-delivery-prod-cloudformation" }
}

override_resource {
  target = module.stage_roles.aws_iam_role.codedeploy["dev"]
  values = { arn = "arn:aws:iam::222222222222:role/countries-delivery-dev-codedeploy", id = "countries-delivery-dev-codedeploy" }
}

override_resource {
  target = module.stage_roles.aws_iam_role.codedeploy["staging"]
  values = { arn = "arn:aws:iam::222222222222:role/countries-delivery-staging-codedeploy", id = "countries-delivery-staging-codedeploy" }
}

override_resource {
  target = module.stage_roles.aws_iam_role.codedeploy["prod"]
  values = { arn = "arn:aws:iam::222222222222:role/countries-delivery-prod-codedeploy", id = "countries-delivery-prod-codedeploy" }
}

override_resource {
  target = aws_kms_key.alarms
  values = { arn = "arn:aws:kms:us-east-1:222222222222:key/00000000-0000-4000-8000-000000000002", key_id = "00000000-0000-4000-8000-000000000002" }
}

# These three are named after the stage: each run overrides them again with
# its stage's ARNs (the file-level values serve the refresh between runs).
override_resource {
  target = aws_iam_role.deployer
  values = { arn = "arn:aws:iam::222222222222:role/countries-delivery-dev-deployer", id = "countries-delivery-dev-deployer" }
}

override_resource {
  target = aws_iam_role.reader
  values = { arn = "arn:aws:iam::222222222222:role/countries-delivery-dev-reader", id = "countries-delivery-dev-reader" }
}

override_resource {
  target = aws_sns_topic.alarms
  values = { arn = "arn:aws:sns:us-east-1:222222222222:countries-dev-alarms", id = "arn:aws:sns:us-east-1:222222222222:countries-dev-alarms" }
}

override_resource { target = module.stage_roles.aws_iam_role_policy.cloudformation }

override_resource { target = module.stage_roles.aws_iam_policy.function_boundary }

override_resource { target = module.stage_roles.aws_iam_role_policy.cloudformation_releases }

override_resource { target = module.stage_roles.aws_iam_role_policy.codedeploy }

override_resource { target = aws_iam_role_policy.deployer }

override_resource { target = aws_iam_role_policy.reader }

override_resource { target = aws_kms_alias.alarms }

override_resource { target = aws_sns_topic_policy.alarms }

override_resource { target = aws_sns_topic_subscription.email }

# --- dev, the defaults -------------------------------------------------------------------

run "dev" {
  command = apply

  override_resource {
    target = aws_iam_role.deployer
    values = { arn = "arn:aws:iam::222222222222:role/countries-delivery-dev-deployer", id = "countries-delivery-dev-deployer" }
  }
  override_resource {
    target = aws_iam_role.reader
    values = { arn = "arn:aws:iam::222222222222:role/countries-delivery-dev-reader", id = "countries-delivery-dev-reader" }
  }
  override_resource {
    target = aws_sns_topic.alarms
    values = { arn = "arn:aws:sns:us-east-1:222222222222:countries-dev-alarms", id = "arn:aws:sns:us-east-1:222222222222:countries-dev-alarms" }
  }

  # --- dev: the deploy role trusts exactly the tooling account's CodeBuild deploy role of dev
  assert {
    condition = (
      length(jsondecode(aws_iam_role.deployer.assume_role_policy).Statement) == 1
      && alltrue([
        for st in jsondecode(aws_iam_role.deployer.assume_role_policy).Statement :
        st.Effect == "Allow" && flatten([st.Action]) == ["sts:AssumeRole"]
        && keys(st.Principal) == ["AWS"] && flatten([st.Principal.AWS]) == ["arn:aws:iam::111111111111:root"]
        && keys(st.Condition) == ["ArnEquals"]
        && flatten([st.Condition.ArnEquals["aws:PrincipalArn"]]) == ["arn:aws:iam::111111111111:role/countries-delivery-dev-deploy"]
      ])
    )
    error_message = "The dev deploy role must trust exactly arn:aws:iam::111111111111:role/countries-delivery-dev-deploy (the tooling account's principal, narrowed by aws:PrincipalArn), for sts:AssumeRole only: ${aws_iam_role.deployer.assume_role_policy}"
  }

  # --- dev: the reader role trusts exactly the CodeBuild deploy role of staging (promoted from dev)
  assert {
    condition = (
      length(aws_iam_role.reader) == 1
      && length(jsondecode(aws_iam_role.reader[0].assume_role_policy).Statement) == 1
      && alltrue([
        for st in jsondecode(aws_iam_role.reader[0].assume_role_policy).Statement :
        st.Effect == "Allow" && flatten([st.Action]) == ["sts:AssumeRole"]
        && flatten([st.Principal.AWS]) == ["arn:aws:iam::111111111111:root"]
        && flatten([st.Condition.ArnEquals["aws:PrincipalArn"]]) == ["arn:aws:iam::111111111111:role/countries-delivery-staging-deploy"]
      ])
    )
    error_message = "The dev reader role must trust exactly the tooling account's countries-delivery-staging-deploy: ${try(aws_iam_role.reader[0].assume_role_policy, "none")}"
  }

  # --- dev: no trust policy reaches beyond the roles it names
  # Every statement's principals are account roots narrowed by an exact
  # aws:PrincipalArn (no wildcard) of those accounts: no "*", no service, no
  # bare account, no user.
  assert {
    condition = alltrue([
      for doc in concat([aws_iam_role.deployer.assume_role_policy], aws_iam_role.reader[*].assume_role_policy) : alltrue([
        for st in jsondecode(doc).Statement :
        st.Effect != "Allow" || (
          keys(st.Principal) == ["AWS"]
          && alltrue([for p in flatten([st.Principal.AWS]) : can(regex("^arn:aws:iam::[0-9]{12}:root$", p))])
          && length(flatten([try(st.Condition.ArnEquals["aws:PrincipalArn"], [])])) > 0
          && alltrue([for a in flatten([try(st.Condition.ArnEquals["aws:PrincipalArn"], [])]) : !strcontains(a, "*") && !strcontains(a, "?") && contains(flatten([st.Principal.AWS]), "arn:aws:iam::${split(":", a)[4]}:root")])
        )
      ])
    ])
    error_message = "A trust policy of the deploy or reader role names a principal without an exact aws:PrincipalArn: ${aws_iam_role.deployer.assume_role_policy}"
  }

  # --- dev: the deploy role changes only countries-dev, with its execution role only
  assert {
    condition = (
      flatten([for st in jsondecode(aws_iam_role_policy.deployer.policy).Statement : flatten([st.Resource]) if contains(flatten([st.Action]), "cloudformation:CreateChangeSet")]) == ["arn:aws:cloudformation:us-east-1:222222222222:stack/countries-dev/*"]
      && flatten([for st in jsondecode(aws_iam_role_policy.deployer.policy).Statement : flatten([st.Condition.ArnEquals["cloudformation:RoleArn"]]) if contains(flatten([st.Action]), "cloudformation:CreateChangeSet")]) == [output.execution_role_arn]
      && flatten([for st in jsondecode(aws_iam_role_policy.deployer.policy).Statement : flatten([st.Resource]) if contains(flatten([st.Action]), "iam:PassRole")]) == [output.execution_role_arn]
      && flatten([for st in jsondecode(aws_iam_role_policy.deployer.policy).Statement : flatten([st.Resource]) if contains(flatten([st.Action]), "cloudformation:ExecuteChangeSet")]) == ["arn:aws:cloudformation:us-east-1:222222222222:stack/countries-dev/*"]
      && strcontains(aws_iam_role_policy.deployer.policy, "cloudformation:DeleteStack") == false
      && aws_iam_role_policy.deployer.role == aws_iam_role.deployer.id
    )
    error_message = "The dev deploy role may create and execute change sets on countries-dev only, with countries-delivery-dev-cloudformation only, pass only that role, and not delete the stack by default: ${aws_iam_role_policy.deployer.policy}"
  }

  assert {
    condition = (
      jsonencode([for st in jsondecode(aws_iam_role_policy.reader[0].policy).Statement : sort(flatten([st.Action]))]) == jsonencode([["cloudformation:DescribeStackResources", "cloudformation:DescribeStacks", "cloudformation:ListStackResources"]])
      && flatten([for st in jsondecode(aws_iam_role_policy.reader[0].policy).Statement : flatten([st.Resource])]) == ["arn:aws:cloudformation:us-east-1:222222222222:stack/countries-dev/*"]
    )
    error_message = "The dev reader role may only describe countries-dev: ${aws_iam_role_policy.reader[0].policy}"
  }

  # --- dev: the execution role: CloudFormation only; zips from the tooling bucket, decrypted through S3 with the tooling key
  assert {
    condition = (
      jsondecode(module.stage_roles.execution_roles["dev"].assume_role_policy).Statement[*].Principal.Service == ["cloudformation.amazonaws.com"]
      && one([for st in jsondecode(module.stage_roles.execution_roles["dev"].policy).Statement : flatten([st.Resource]) if st.Sid == "FunctionCode"]) == ["arn:aws:s3:::countries-artifacts-111111111111-us-east-1/functions/*"]
      && one([for st in jsondecode(module.stage_roles.execution_roles["dev"].policy).Statement : flatten([st.Resource]) if st.Sid == "FunctionCodeDecrypt"]) == ["arn:aws:kms:us-east-1:111111111111:key/*"]
      && one([for st in jsondecode(module.stage_roles.execution_roles["dev"].policy).Statement : st.Condition if st.Sid == "FunctionCodeDecrypt"]) == {
        StringEquals               = { "kms:ViaService" = "s3.us-east-1.amazonaws.com" }
        "ForAnyValue:StringEquals" = { "kms:ResourceAliases" = "alias/countries-delivery" }
      }
      && module.stage_roles.execution_roles["dev"].name == "countries-delivery-dev-cloudformation"
    )
    error_message = "The dev execution role must be CloudFormation's only, read function zips from the tooling account's bucket and decrypt them only through S3 with the key aliased alias/countries-delivery: ${module.stage_roles.execution_roles["dev"].policy}"
  }

  # --- dev: CodeDeploy's role is in this account (a deployment group's must be
  # in the stack's), trusted by this account's CodeDeploy alone, shifts dev's
  # aliases only; the execution role here may pass it, to CodeDeploy only
  assert {
    condition = (
      output.codedeploy_role_arn == "arn:aws:iam::222222222222:role/countries-delivery-dev-codedeploy"
      && length(jsondecode(module.stage_roles.codedeploy_roles["dev"].assume_role_policy).Statement) == 1
      && jsondecode(module.stage_roles.codedeploy_roles["dev"].assume_role_policy).Statement[0].Principal == { Service = "codedeploy.amazonaws.com" }
      && jsondecode(module.stage_roles.codedeploy_roles["dev"].assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "222222222222"
      && toset(one([for st in jsondecode(module.stage_roles.codedeploy_roles["dev"].policy).Statement : st.Resource if st.Sid == "ShiftLiveAliases"])) == toset(["arn:aws:lambda:us-east-1:222222222222:function:countries-*-dev", "arn:aws:lambda:us-east-1:222222222222:function:countries-*-dev:*"])
      && one([for st in jsondecode(module.stage_roles.execution_roles["dev"].releases_policy).Statement : st.Resource if st.Sid == "PassCodeDeployRole"]) == output.codedeploy_role_arn
      && one([for st in jsondecode(module.stage_roles.execution_roles["dev"].releases_policy).Statement : st.Resource if st.Sid == "CodeDeployApplication"]) == "arn:aws:codedeploy:us-east-1:222222222222:application:countries-dev"
      && module.stage_roles.execution_roles["dev"].releases_role == module.stage_roles.execution_roles["dev"].id
    )
    error_message = "The dev CodeDeploy role must be this account's, trusted by this account's CodeDeploy only, shifting dev's aliases only, and passed by dev's execution role here: ${jsonencode(module.stage_roles.codedeploy_roles["dev"])} ${module.stage_roles.execution_roles["dev"].releases_policy}"
  }

  # --- dev: the alarm topic: encrypted, CloudWatch alarms of this account publish
  assert {
    condition = (
      aws_sns_topic.alarms.name == "countries-dev-alarms"
      && aws_sns_topic.alarms.kms_master_key_id == aws_kms_key.alarms.arn
      && [for st in jsondecode(aws_sns_topic_policy.alarms.policy).Statement : st.Principal if st.Effect == "Allow"] == [{ Service = "cloudwatch.amazonaws.com" }]
      && one([for st in jsondecode(aws_sns_topic_policy.alarms.policy).Statement : st.Condition.StringEquals["aws:SourceAccount"] if st.Effect == "Allow"]) == "222222222222"
    )
    error_message = "The dev alarm topic must be countries-dev-alarms, encrypted with its key, and let only this account's CloudWatch alarms publish: ${aws_sns_topic_policy.alarms.policy}"
  }

  # --- dev: no Allow statement grants a wildcard action (nor uses NotAction), in any policy
  assert {
    condition = length(flatten([
      for at, doc in merge(
        { "aws_iam_role.deployer" = aws_iam_role.deployer.assume_role_policy, "aws_iam_role_policy.deployer" = aws_iam_role_policy.deployer.policy },
        { for i, r in aws_iam_role.reader : "aws_iam_role.reader[${i}]" => r.assume_role_policy },
        { for i, r in aws_iam_role_policy.reader : "aws_iam_role_policy.reader[${i}]" => r.policy },
        { for k, r in module.stage_roles.execution_roles : "execution role ${k}" => r.policy },
        { for k, r in module.stage_roles.execution_roles : "execution role releases ${k}" => r.releases_policy },
        { for k, r in module.stage_roles.codedeploy_roles : "codedeploy role ${k}" => r.policy },
        { for k, r in module.stage_roles.codedeploy_roles : "codedeploy role trust ${k}" => r.assume_role_policy },
        { for k, r in module.stage_roles.execution_roles : "execution role trust ${k}" => r.assume_role_policy },
        { for k, r in module.stage_roles.function_boundaries : "boundary ${k}" => r.policy },
        { "aws_kms_key.alarms" = aws_kms_key.alarms.policy, "aws_sns_topic_policy.alarms" = aws_sns_topic_policy.alarms.policy },
        ) : [
        for st in jsondecode(doc).Statement : [
          for a in flatten([try(st.Action, "NotAction")]) : "${at} ${try(st.Sid, "")}: ${a}"
          if strcontains(a, "*") || a == "NotAction"
        ] if st.Effect == "Allow"
      ]
    ])) == 0
    error_message = "Allow statements must name their actions: no \"*\", \"service:*\", pattern or NotAction."
  }

  # --- dev: every policy under its size limit
  assert {
    condition = (
      length(jsonencode(jsondecode(aws_iam_role_policy.deployer.policy))) <= 10240
      && length(jsonencode(jsondecode(module.stage_roles.execution_roles["dev"].policy))) + length(jsonencode(jsondecode(module.stage_roles.execution_roles["dev"].releases_policy))) <= 10240
      && length(jsonencode(jsondecode(module.stage_roles.codedeploy_roles["dev"].policy))) <= 10240
      && length(jsonencode(jsondecode(module.stage_roles.function_boundaries["dev"].policy))) <= 6144
      && alltrue([for doc in concat([aws_iam_role.deployer.assume_role_policy, module.stage_roles.codedeploy_roles["dev"].assume_role_policy], aws_iam_role.reader[*].assume_role_policy) : length(jsonencode(jsondecode(doc))) <= 2048])
    )
    error_message = "A policy of the stage account exceeds IAM's limits (10,240 inline per role, 6,144 managed, 2,048 trust)."
  }

  # --- dev: the outputs are what the tooling root and the stage file take
  assert {
    condition = output.tooling_inputs == {
      account_id          = "222222222222"
      execution_role_arn  = "arn:aws:iam::222222222222:role/countries-delivery-dev-cloudformation"
      deploy_role_arn     = "arn:aws:iam::222222222222:role/countries-delivery-dev-deployer"
      reader_role_arn     = "arn:aws:iam::222222222222:role/countries-delivery-dev-reader"
      alarm_topic_arn     = "arn:aws:sns:us-east-1:222222222222:countries-dev-alarms"
      codedeploy_role_arn = "arn:aws:iam::222222222222:role/countries-delivery-dev-codedeploy"
    } && output.deploy_role_arn == aws_iam_role.deployer.arn && output.reader_role_arn == aws_iam_role.reader[0].arn && output.account_id == "222222222222"
    error_message = "tooling_inputs must be exactly the stage_accounts entry the tooling root validates: ${jsonencode(output.tooling_inputs)}"
  }
}

# --- prod: external ids (a rotation), an organization, an operator, stack deletion on --

run "prod_with_external_ids_organization_and_operator" {
  command = apply

  variables {
    stage                = "prod"
    external_ids         = ["countries-prod-2026-01", "countries-prod-2026-07"]
    organization_id      = "o-a1b2c3d4e5"
    operator_role_arns   = ["arn:aws:iam::111111111111:role/countries-operators"]
    allow_stack_deletion = true
  }

  override_resource {
    target = aws_iam_role.deployer
    values = { arn = "arn:aws:iam::222222222222:role/countries-delivery-prod-deployer", id = "countries-delivery-prod-deployer" }
  }
  override_resource {
    target = aws_sns_topic.alarms
    values = { arn = "arn:aws:sns:us-east-1:222222222222:countries-prod-alarms", id = "arn:aws:sns:us-east-1:222222222222:countries-prod-alarms" }
  }

  assert {
    condition = alltrue([
      for st in jsondecode(aws_iam_role.deployer.assume_role_policy).Statement :
      flatten([st.Condition.ArnEquals["aws:PrincipalArn"]]) == ["arn:aws:iam::111111111111:role/countries-delivery-prod-deploy", "arn:aws:iam::111111111111:role/countries-operators"]
      && flatten([st.Condition.StringEquals["sts:ExternalId"]]) == ["countries-prod-2026-01", "countries-prod-2026-07"]
      && flatten([st.Condition.StringEquals["aws:PrincipalOrgID"]]) == ["o-a1b2c3d4e5"]
      && flatten([st.Principal.AWS]) == ["arn:aws:iam::111111111111:root"]
    ]) && length(jsondecode(aws_iam_role.deployer.assume_role_policy).Statement) == 1
    error_message = "With external ids, an organization and an operator, the prod deploy role must trust exactly the prod deploy action and the operator, with either external id, from the organization: ${aws_iam_role.deployer.assume_role_policy}"
  }

  assert {
    condition     = length(aws_iam_role.reader) == 0 && output.reader_role_arn == null && output.tooling_inputs.reader_role_arn == null
    error_message = "Nothing is promoted from prod: no reader role."
  }

  assert {
    condition = one([
      for st in jsondecode(aws_iam_role_policy.deployer.policy).Statement : st
      if contains(flatten([st.Action]), "cloudformation:DeleteStack")
      ]) == {
      Sid       = "DeleteOwnStack"
      Effect    = "Allow"
      Action    = "cloudformation:DeleteStack"
      Resource  = "arn:aws:cloudformation:us-east-1:222222222222:stack/countries-prod/*"
      Condition = { ArnEquals = { "cloudformation:RoleArn" = "arn:aws:iam::222222222222:role/countries-delivery-prod-cloudformation" } }
    }
    error_message = "allow_stack_deletion must let the deploy role delete countries-prod, with its execution role, and nothing else: ${aws_iam_role_policy.deployer.policy}"
  }

  assert {
    condition     = !contains(flatten([for st in jsondecode(module.stage_roles.execution_roles["prod"].policy).Statement : flatten([st.Action])]), "dynamodb:DeleteTable")
    error_message = "prod's execution role must not delete tables, in its own account as in the tooling account."
  }
}

# --- staging: read by prod's deploy -----------------------------------------------------

run "staging" {
  command = apply

  variables {
    stage = "staging"
  }

  override_resource {
    target = aws_iam_role.deployer
    values = { arn = "arn:aws:iam::222222222222:role/countries-delivery-staging-deployer", id = "countries-delivery-staging-deployer" }
  }
  override_resource {
    target = aws_iam_role.reader
    values = { arn = "arn:aws:iam::222222222222:role/countries-delivery-staging-reader", id = "countries-delivery-staging-reader" }
  }
  override_resource {
    target = aws_sns_topic.alarms
    values = { arn = "arn:aws:sns:us-east-1:222222222222:countries-staging-alarms", id = "arn:aws:sns:us-east-1:222222222222:countries-staging-alarms" }
  }

  assert {
    condition = (
      flatten([for st in jsondecode(aws_iam_role.deployer.assume_role_policy).Statement : flatten([st.Condition.ArnEquals["aws:PrincipalArn"]])]) == ["arn:aws:iam::111111111111:role/countries-delivery-staging-deploy"]
      && flatten([for st in jsondecode(aws_iam_role.reader[0].assume_role_policy).Statement : flatten([st.Condition.ArnEquals["aws:PrincipalArn"]])]) == ["arn:aws:iam::111111111111:role/countries-delivery-prod-deploy"]
    )
    error_message = "staging's deploy role must trust the staging deploy action, its reader role the prod deploy action, and nothing else."
  }
}

# --- what the variables refuse ------------------------------------------------------------

run "refuses_a_wildcard_operator" {
  command = plan

  variables {
    operator_role_arns = ["arn:aws:iam::111111111111:role/*"]
  }

  expect_failures = [var.operator_role_arns]
}

run "refuses_an_operator_account" {
  command = plan

  variables {
    operator_role_arns = ["arn:aws:iam::111111111111:root"]
  }

  expect_failures = [var.operator_role_arns]
}

run "refuses_a_malformed_tooling_account" {
  command = plan

  variables {
    tooling_account_id = "11111111111*"
  }

  expect_failures = [var.tooling_account_id]
}

run "refuses_three_external_ids" {
  command = plan

  variables {
    external_ids = ["a1", "b2", "c3"]
  }

  expect_failures = [var.external_ids]
}

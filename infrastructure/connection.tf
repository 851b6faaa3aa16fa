# The connection to the repository host. It is created and authorised once,
# by hand, in the console (Developer Tools > Settings > Connections): the
# OAuth handshake cannot be done from Terraform. Here it is only looked up by
# name, so the pipeline fails to plan if it does not exist.

data "aws_codestarconnections_connection" "repository" {
  name = var.connection_name
}

locals {
  connection_arn = data.aws_codestarconnections_connection.repository.arn
}

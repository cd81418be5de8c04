locals {
  environment_vars = read_terragrunt_config(find_in_parent_folders("env.hcl"))
  env              = local.environment_vars.locals.environment
  base_source_url  = "tfr:///acme/net/aws"
}

inputs = {
  name               = "vpc-${local.env}"
  enable_nat_gateway = false
  tags               = { Team = "platform" }
}

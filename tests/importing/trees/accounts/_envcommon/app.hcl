locals {
  environment_vars = read_terragrunt_config(find_in_parent_folders("env.hcl"))
  env              = local.environment_vars.locals.environment
}

terraform {
  source = "tfr:///acme/app/aws?version=2.0.0"
}

dependency "vpc" {
  config_path = "../vpc"
  mock_outputs = {
    vpc_id     = "vpc-00000000"
    subnet_ids = ["subnet-0000a", "subnet-0000b"]
  }
}

inputs = {
  name          = "app-${local.env}"
  instance_type = "t3.micro"
  vpc_id        = dependency.vpc.outputs.vpc_id
  subnet_ids    = dependency.vpc.outputs.subnet_ids
}

include "root" {
  path = find_in_parent_folders("root.hcl")
}

terraform {
  source = "tfr:///initech/db/aws?version=2.1.0"
}

dependency "primary" {
  config_path = "../../../us-east-1/app/primary"

  mock_outputs = {
    arn = "arn:aws:rds:us-east-1:000000000000:db:mock"
  }
}

dependencies {
  paths = ["../sg"]
}

inputs = {
  replicate_source_db = dependency.primary.outputs.arn
}

# The replica's own generated file.
generate "replica" {
  path      = "replica.tf"
  if_exists = "overwrite"
  contents  = "# promoted by hand"
}

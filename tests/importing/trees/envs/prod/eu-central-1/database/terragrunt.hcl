include {
  path = find_in_parent_folders()
}

terraform {
  source = "git::https://git.example.com/globex/modules.git//database?ref=v1.9.0"
}

dependency "network" {
  config_path = "../network"

  mock_outputs = {
    private_subnet_ids = ["subnet-mock"]
  }
}

inputs = {
  identifier = "globex-prod-db"
  subnet_ids = dependency.network.outputs.private_subnet_ids
  multi_az   = true
}

prevent_destroy = true

include {
  path = find_in_parent_folders()
}

terraform {
  source = "git::https://git.example.com/globex/modules.git//network?ref=v1.4.0"
}

inputs = {
  name       = "globex-prod"
  region     = "us-east-1"
  cidr_block = "10.1.0.0/16"
}

prevent_destroy = true

include "root" {
  path = find_in_parent_folders("root.hcl")
}

terraform {
  source = "tfr:///initech/iam/aws?version=3.0.0"
}

inputs = {
  roles = ["deploy", "audit"]
}

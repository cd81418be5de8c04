include "root" {
  path = find_in_parent_folders("root.hcl")
}

terraform {
  source = "tfr:///initech/sg/aws?version=1.2.0"
}

inputs = {
  name = "app"
}

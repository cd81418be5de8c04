include "root" {
  path = find_in_parent_folders("root.hcl")
}

terraform {
  source = "tfr:///initech/db/aws?version=2.1.0"
}

inputs = {
  replicate_source_db = null
}

include "root" {
  path = find_in_parent_folders("root.hcl")
}

terraform {
  source = "tfr:///initech/db/aws?version=2.1.0"
}

locals {
  is_primary = true
  retention  = local.is_primary ? 30 : 7
}

inputs = {
  replicate_source_db     = null
  backup_retention_period = local.retention
}

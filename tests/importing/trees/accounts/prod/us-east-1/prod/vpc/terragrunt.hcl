include "root" {
  path = find_in_parent_folders("root.hcl")
}

include "envcommon" {
  path   = "${dirname(find_in_parent_folders("root.hcl"))}/_envcommon/vpc.hcl"
  expose = true
}

terraform {
  source = "${include.envcommon.locals.base_source_url}?version=1.1.0"
}

inputs = {
  enable_nat_gateway = true
  cidr               = "10.40.0.0/16"
}

prevent_destroy = true

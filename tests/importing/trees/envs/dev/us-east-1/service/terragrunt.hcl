include {
  path = find_in_parent_folders()
}

terraform {
  # A module of this repository, beside the live tree.
  source = "../../../modules/service"

  before_hook "lint" {
    commands = ["plan", "apply"]
    execute  = ["tflint"]
  }
}

dependencies {
  paths = ["../database"]
}

inputs = {
  image = "globex/service:${run_cmd("--terragrunt-quiet", "echo", "1.2.3")}"
}

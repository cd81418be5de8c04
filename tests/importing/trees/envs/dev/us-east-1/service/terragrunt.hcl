include {
  path = find_in_parent_folders()
}

terraform {
  source = "git::https://git.example.com/globex/modules.git//service?ref=v0.9.1"

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

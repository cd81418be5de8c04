locals {
  account_name   = "nonprod"
  aws_account_id = "111111111111"
}

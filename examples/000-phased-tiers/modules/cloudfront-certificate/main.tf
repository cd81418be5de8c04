# The PWA's CloudFront certificate. CloudFront reads certificates from us-east-1 only,
# whatever region the distribution's unit deploys in, so the certificate is made through
# the aliased provider aws.us_east_1 (declared below in configuration_aliases; tfgen's
# catalog providers: configures it in the unit's providers.tf). The DNS validation
# record goes into the environment's Route 53 zone through the unit's own aws
# provider (Route 53 is global).

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source                = "hashicorp/aws"
      version               = ">= 5.0"
      configuration_aliases = [aws.us_east_1]
    }
  }
}

variable "domain_name" {
  description = "The name the PWA is served under (CloudFront's alias)"
  type        = string
}

variable "zone_id" {
  description = "The Route 53 hosted zone of domain_name, for the DNS validation record"
  type        = string
}

variable "tags" {
  description = "Tags of the certificate"
  type        = map(string)
  default     = {}
}

resource "aws_acm_certificate" "this" {
  provider = aws.us_east_1

  domain_name       = var.domain_name
  validation_method = "DNS"
  tags              = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "validation" {
  for_each = {
    for option in aws_acm_certificate.this.domain_validation_options : option.domain_name => option
  }

  zone_id         = var.zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 60
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "this" {
  provider = aws.us_east_1

  certificate_arn         = aws_acm_certificate.this.arn
  validation_record_fqdns = [for record in aws_route53_record.validation : record.fqdn]
}

output "certificate_arn" {
  description = "The issued certificate's ARN (in us-east-1), once ACM has validated it"
  value       = aws_acm_certificate_validation.this.certificate_arn
}

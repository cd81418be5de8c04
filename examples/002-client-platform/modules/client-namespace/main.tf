# A client's place on the shared cluster (seed 002: "Kubernetes namespaces and service
# accounts with IRSA"): its namespace, and in it a service account whose IAM role
# (IRSA: trusted through the cluster's OIDC provider, for this service account alone)
# may use the client's own bucket and nothing else. The kubernetes provider is
# configured by tfgen from the eks unit's outputs (catalog providers:).

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = ">= 2.20"
    }
  }
}

variable "name" {
  description = "The client's name: its namespace, and the prefix of its IAM role"
  type        = string
}

variable "labels" {
  description = "Labels of the namespace"
  type        = map(string)
  default     = {}
}

variable "service_account" {
  description = "The name of the client's service account in its namespace"
  type        = string
  default     = "workload"
}

variable "oidc_provider_arn" {
  description = "The ARN of the cluster's OIDC provider (the eks unit's oidc_provider_arn)"
  type        = string
}

variable "bucket_arn" {
  description = "The ARN of the client's own bucket, the one its service account may use"
  type        = string
}

variable "tags" {
  description = "Tags of the IAM role"
  type        = map(string)
  default     = {}
}

locals {
  # arn:aws:iam::ACCOUNT:oidc-provider/ISSUER -> ISSUER
  issuer = element(split("oidc-provider/", var.oidc_provider_arn), 1)
}

resource "kubernetes_namespace" "this" {
  metadata {
    name   = var.name
    labels = var.labels
  }
}

resource "aws_iam_role" "this" {
  name = "${var.name}-${var.service_account}-irsa"
  tags = var.tags
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = var.oidc_provider_arn }
      Condition = {
        StringEquals = {
          "${local.issuer}:sub" = "system:serviceaccount:${var.name}:${var.service_account}"
          "${local.issuer}:aud" = "sts.amazonaws.com"
        }
      }
    }]
  })
}

resource "aws_iam_role_policy" "bucket" {
  name = "client-bucket"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Effect = "Allow", Action = ["s3:ListBucket"], Resource = [var.bucket_arn] },
      { Effect = "Allow", Action = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource = ["${var.bucket_arn}/*"] },
    ]
  })
}

resource "kubernetes_service_account" "this" {
  metadata {
    name      = var.service_account
    namespace = kubernetes_namespace.this.metadata[0].name
    annotations = {
      "eks.amazonaws.com/role-arn" = aws_iam_role.this.arn
    }
  }
}

output "namespace" {
  description = "The client's namespace"
  value       = kubernetes_namespace.this.metadata[0].name
}

output "service_account" {
  description = "The client's service account in its namespace"
  value       = kubernetes_service_account.this.metadata[0].name
}

output "role_arn" {
  description = "The IAM role of the service account (IRSA)"
  value       = aws_iam_role.this.arn
}

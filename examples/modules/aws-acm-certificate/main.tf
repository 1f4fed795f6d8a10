# aws-acm-certificate — offline model of a DNS-validated ACM certificate.
#
# Built-in `terraform_data` only. The validation record names are plan-known; the certificate
# ARN goes through `terraform_data.validation.output` and is "known after apply", as a real
# certificate is usable only once validated.

terraform {
  required_version = ">= 1.6"
}

variable "domain_name" {
  type = string
}

variable "zone_id" {
  type = string

  validation {
    condition     = can(regex("^Z[A-Z0-9]{1,31}$", var.zone_id))
    error_message = "zone_id must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ."
  }
}

variable "region" {
  type = string
}

variable "account_id" {
  type = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be a 12-digit AWS account id."
  }
}

variable "subject_alternative_names" {
  type    = list(string)
  default = []
}

variable "key_algorithm" {
  type    = string
  default = "RSA_2048"

  validation {
    condition     = contains(["RSA_2048", "EC_prime256v1", "EC_secp384r1"], var.key_algorithm)
    error_message = "key_algorithm must be RSA_2048, EC_prime256v1 or EC_secp384r1."
  }
}

variable "tags" {
  type    = map(string)
  default = {}
}

locals {
  partition = startswith(var.region, "us-gov-") ? "aws-us-gov" : startswith(var.region, "cn-") ? "aws-cn" : "aws"
  domains   = distinct(concat([var.domain_name], var.subject_alternative_names))
  cert_id   = uuidv5("url", "acm://${var.account_id}/${var.region}/${join(",", local.domains)}")
  validation = {
    for d in local.domains : d => "_${substr(sha1("${local.cert_id}/${d}"), 0, 32)}.${d}"
  }
}

resource "terraform_data" "certificate" {
  input = {
    arn                       = "arn:${local.partition}:acm:${var.region}:${var.account_id}:certificate/${local.cert_id}"
    domain_name               = var.domain_name
    subject_alternative_names = var.subject_alternative_names
    validation_method         = "DNS"
    key_algorithm             = var.key_algorithm
    tags                      = var.tags
  }
}

resource "terraform_data" "validation_record" {
  for_each = local.validation

  input = {
    zone_id = var.zone_id
    name    = each.value
    type    = "CNAME"
    ttl     = 60
    records = ["_${substr(sha1("${each.value}/target"), 0, 32)}.acm-validations.aws"]
  }
}

resource "terraform_data" "validation" {
  input = {
    certificate_arn         = terraform_data.certificate.output.arn
    validation_record_fqdns = [for r in terraform_data.validation_record : r.output.name]
  }
}

# Known after apply (once validated).
output "certificate_arn" {
  value = terraform_data.validation.output.certificate_arn
}

# Plan-known.
output "certificate_domains" {
  value = local.domains
}

output "validation_record_fqdns" {
  value = [for d in local.domains : local.validation[d]]
}

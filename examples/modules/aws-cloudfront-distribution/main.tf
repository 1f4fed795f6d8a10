# aws-cloudfront-distribution — offline model of a CloudFront distribution.
#
# Built-in `terraform_data` only. CloudFront assigns the distribution id and its
# dXXXXXXXXXXXXX.cloudfront.net name at creation, so both go through
# `terraform_data.distribution.output` and are "known after apply" on the first plan.

terraform {
  required_version = ">= 1.6"
}

variable "origin" {
  type        = string
  description = "Origin URL or host name."

  validation {
    condition     = can(regex("^(https?://)?[A-Za-z0-9.-]+(:[0-9]+)?(/.*)?$", var.origin))
    error_message = "origin must be a host name or an http(s) URL."
  }
}

variable "comment" {
  type    = string
  default = ""
}

variable "price_class" {
  type    = string
  default = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.price_class)
    error_message = "price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "default_ttl" {
  type    = number
  default = 300
}

variable "origin_protocol" {
  type    = string
  default = ""

  validation {
    condition     = contains(["", "http-only", "https-only", "match-viewer"], var.origin_protocol)
    error_message = "origin_protocol must be http-only, https-only or match-viewer."
  }
}

variable "tags" {
  type    = map(string)
  default = {}
}

locals {
  origin_domain   = replace(replace(var.origin, "/^https?:///", ""), "/[:/].*$/", "")
  origin_protocol = var.origin_protocol != "" ? var.origin_protocol : (startswith(var.origin, "http://") ? "http-only" : "https-only")
  # CloudFront ids: E + 13 upper-case alphanumerics; domain: d + 13 lower-case alphanumerics.
  dist_hash = sha1("${local.origin_domain}/${var.comment}")
}

resource "terraform_data" "cache_policy" {
  input = {
    name        = "ttl-${var.default_ttl}"
    default_ttl = var.default_ttl
    max_ttl     = var.default_ttl * 12
    compression = ["gzip", "brotli"]
  }
}

resource "terraform_data" "distribution" {
  input = {
    id                     = "E${upper(substr(local.dist_hash, 0, 13))}"
    domain_name            = "d${substr(local.dist_hash, 13, 13)}.cloudfront.net"
    comment                = var.comment
    price_class            = var.price_class
    http_version           = "http2and3"
    origin_domain          = local.origin_domain
    origin_protocol_policy = local.origin_protocol
    viewer_protocol_policy = "redirect-to-https"
    cache_policy           = terraform_data.cache_policy.output.name
    tags                   = var.tags
  }
}

# Known after apply (as on AWS).
output "domain_name" {
  value = terraform_data.distribution.output.domain_name
}

output "distribution_id" {
  value = terraform_data.distribution.output.id
}

# Plan-known: CloudFront's fixed hosted zone, the target of Route 53 alias records.
output "hosted_zone_id" {
  value = "Z2FDTNDATAQYW2"
}

output "origin_domain" {
  value = local.origin_domain
}

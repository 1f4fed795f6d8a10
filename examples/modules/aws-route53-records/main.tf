# aws-route53-records — offline model of a hosted zone and its records.
#
# Built-in `terraform_data` only. The zone id and name servers are derived from the zone name,
# so they are plan-known: a certificate module downstream can plan its validation records before
# this one is applied.

terraform {
  required_version = ">= 1.6"
}

variable "zone_name" {
  type = string

  validation {
    condition     = can(regex("^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\.)+[a-z]{2,}$", var.zone_name))
    error_message = "zone_name must be a lower-case DNS name without a trailing dot, e.g. portal.example.com."
  }
}

variable "alias_target" {
  type = string
}

variable "alias_zone_id" {
  type = string
}

variable "cname_hosts" {
  type    = list(string)
  default = ["www"]
}

variable "ttl" {
  type    = number
  default = 300
}

variable "tags" {
  type    = map(string)
  default = {}
}

locals {
  zone_hash    = sha1(var.zone_name)
  zone_id      = "Z${upper(substr(local.zone_hash, 0, 20))}"
  name_servers = [for i, tld in ["com", "net", "org", "co.uk"] : "ns-${parseint(substr(local.zone_hash, i * 3, 3), 16) % 2048}.awsdns-${format("%02d", parseint(substr(local.zone_hash, 20 + i * 2, 2), 16) % 64)}.${tld}"]
}

resource "terraform_data" "zone" {
  input = {
    id           = local.zone_id
    name         = var.zone_name
    name_servers = local.name_servers
    tags         = var.tags
  }
}

resource "terraform_data" "apex_alias" {
  for_each = toset(["A", "AAAA"])

  input = {
    zone_id = terraform_data.zone.output.id
    name    = var.zone_name
    type    = each.key
    alias = {
      name                   = var.alias_target
      zone_id                = var.alias_zone_id
      evaluate_target_health = false
    }
  }
}

resource "terraform_data" "cname" {
  for_each = toset(var.cname_hosts)

  input = {
    zone_id = terraform_data.zone.output.id
    name    = "${each.key}.${var.zone_name}"
    type    = "CNAME"
    ttl     = var.ttl
    records = [var.alias_target]
  }
}

# Plan-known.
output "zone_id" {
  value = local.zone_id
}

output "zone_name" {
  value = var.zone_name
}

output "name_servers" {
  value = local.name_servers
}

output "fqdn" {
  value = var.zone_name
}

output "record_names" {
  value = concat([var.zone_name], [for h in var.cname_hosts : "${h}.${var.zone_name}"])
}

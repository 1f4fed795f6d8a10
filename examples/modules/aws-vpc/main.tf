# aws-vpc — offline model of a three-tier VPC.
#
# No AWS provider is used: every resource is a built-in `terraform_data` carrying the attributes
# the real resource would have. Ids are derived from the inputs, so plans are deterministic and
# downstream modules receive realistic values (vpc-…, subnet-…).

terraform {
  required_version = ">= 1.6"
}

variable "name" {
  type        = string
  description = "Name tag of the VPC and prefix of its subnets."
}

variable "cidr" {
  type        = string
  description = "VPC CIDR block, /16 to /20."

  validation {
    condition     = can(cidrnetmask(var.cidr)) && tonumber(split("/", var.cidr)[1]) >= 16 && tonumber(split("/", var.cidr)[1]) <= 20
    error_message = "cidr must be an IPv4 CIDR block between /16 and /20, e.g. 10.10.0.0/16."
  }
}

variable "region" {
  type        = string
  description = "AWS region, e.g. us-east-1 or us-gov-west-1."
}

variable "az_count" {
  type        = number
  default     = 2
  description = "Availability zones to span (2 or 3)."

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 3
    error_message = "az_count must be 2 or 3."
  }
}

variable "enable_flow_logs" {
  type        = bool
  default     = true
  description = "Ship VPC flow logs."
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Extra tags on every resource."
}

locals {
  tags   = merge(var.tags, { Name = var.name })
  vpc_id = "vpc-${substr(sha1("${var.region}/${var.cidr}/${var.name}"), 0, 17)}"
  azs    = [for i in range(var.az_count) : "${var.region}${substr("abc", i, 1)}"]

  # Four /20-equivalent blocks per tier (newbits 4 on the VPC CIDR): public 0-3, private 4-7, database 8-11.
  tiers = { public = 0, private = 4, database = 8 }
  subnets = merge([
    for tier, base in local.tiers : {
      for i, az in local.azs : "${tier}-${az}" => {
        tier = tier
        az   = az
        cidr = cidrsubnet(var.cidr, 4, base + i)
        id   = "subnet-${substr(sha1("${local.vpc_id}/${cidrsubnet(var.cidr, 4, base + i)}"), 0, 17)}"
      }
    }
  ]...)
}

resource "terraform_data" "vpc" {
  input = {
    id                   = local.vpc_id
    cidr_block           = var.cidr
    enable_dns_support   = true
    enable_dns_hostnames = true
    tags                 = local.tags
  }
}

resource "terraform_data" "subnet" {
  for_each = local.subnets

  input = {
    id                      = each.value.id
    vpc_id                  = terraform_data.vpc.output.id
    cidr_block              = each.value.cidr
    availability_zone       = each.value.az
    map_public_ip_on_launch = each.value.tier == "public"
    tags                    = merge(local.tags, { Name = "${var.name}-${each.key}", Tier = each.value.tier })
  }
}

resource "terraform_data" "nat_gateway" {
  for_each = toset(local.azs)

  input = {
    id        = "nat-${substr(sha1("${local.vpc_id}/nat/${each.key}"), 0, 17)}"
    subnet_id = terraform_data.subnet["public-${each.key}"].output.id
    tags      = merge(local.tags, { Name = "${var.name}-nat-${each.key}" })
  }
}

resource "terraform_data" "flow_log" {
  count = var.enable_flow_logs ? 1 : 0

  input = {
    vpc_id          = terraform_data.vpc.output.id
    traffic_type    = "ALL"
    log_destination = "cloud-watch-logs"
    log_group_name  = "/vpc/${var.name}/flow-logs"
  }
}

# Plan-known: derived from the inputs, so downstream plans see real values before the first apply.
output "vpc_id" {
  value = local.vpc_id
}

output "vpc_cidr" {
  value = var.cidr
}

output "availability_zones" {
  value = local.azs
}

output "public_subnet_ids" {
  value = [for az in local.azs : local.subnets["public-${az}"].id]
}

output "private_subnet_ids" {
  value = [for az in local.azs : local.subnets["private-${az}"].id]
}

output "subnet_ids" {
  description = "Isolated (database) subnets: no route to the internet."
  value       = [for az in local.azs : local.subnets["database-${az}"].id]
}

# Known after apply, like the real NAT gateway ids.
output "nat_gateway_ids" {
  value = [for az in local.azs : terraform_data.nat_gateway[az].output.id]
}

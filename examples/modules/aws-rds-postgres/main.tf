# aws-rds-postgres — offline model of a PostgreSQL RDS instance.
#
# Built-in `terraform_data` only. The endpoint and the secret ARN go through
# `terraform_data.*.output`, so they are "known after apply" on the first plan, like the real
# ones; everything else is plan-known. The master password is a sensitive output derived from the
# inputs (a stand-in for the one RDS generates) and is never passed to another resource.

terraform {
  required_version = ">= 1.6"
}

variable "identifier" {
  type        = string
  description = "DB instance identifier."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,62}$", var.identifier))
    error_message = "identifier must start with a letter and hold only lower-case letters, digits and hyphens (max 63)."
  }
}

variable "vpc_id" {
  type = string
}

variable "subnet_ids" {
  type        = list(string)
  description = "Subnets of the DB subnet group (at least two zones)."

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "A DB subnet group needs subnets in at least two availability zones."
  }
}

variable "instance_class" {
  type = string

  validation {
    condition     = startswith(var.instance_class, "db.")
    error_message = "instance_class must be an RDS class such as db.t4g.medium."
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

variable "engine_version" {
  type    = string
  default = "16.4"
}

variable "database_name" {
  type    = string
  default = "app"
}

variable "allocated_storage" {
  type    = number
  default = 20
}

variable "multi_az" {
  type    = bool
  default = false
}

variable "backup_retention_days" {
  type    = number
  default = 7
}

variable "deletion_protection" {
  type    = bool
  default = true
}

variable "allowed_cidrs" {
  type    = list(string)
  default = []
}

variable "tags" {
  type    = map(string)
  default = {}
}

locals {
  partition   = startswith(var.region, "us-gov-") ? "aws-us-gov" : startswith(var.region, "cn-") ? "aws-cn" : "aws"
  dns_suffix  = startswith(var.region, "cn-") ? "amazonaws.com.cn" : "amazonaws.com"
  cluster_tag = substr(sha1("${var.account_id}/${var.region}"), 0, 12)
  endpoint    = "${var.identifier}.c${local.cluster_tag}.${var.region}.rds.${local.dns_suffix}"
  secret_id   = uuidv5("url", "rds://${var.account_id}/${var.region}/${var.identifier}")
  secret_arn  = "arn:${local.partition}:secretsmanager:${var.region}:${var.account_id}:secret:rds!db-${local.secret_id}-${substr(sha1(local.secret_id), 0, 6)}"
  tags        = merge(var.tags, { Name = var.identifier })
}

resource "terraform_data" "security_group" {
  input = {
    id     = "sg-${substr(sha1("${var.vpc_id}/${var.identifier}/db"), 0, 17)}"
    vpc_id = var.vpc_id
    ingress = [for cidr in var.allowed_cidrs : {
      protocol = "tcp"
      port     = 5432
      cidr     = cidr
    }]
    tags = local.tags
  }
}

resource "terraform_data" "subnet_group" {
  input = {
    name       = "${var.identifier}-subnets"
    subnet_ids = var.subnet_ids
  }
}

resource "terraform_data" "master_secret" {
  input = {
    arn        = local.secret_arn
    kms_key_id = "alias/aws/secretsmanager"
    rotation   = "30 days"
  }
}

resource "terraform_data" "instance" {
  input = {
    identifier              = var.identifier
    engine                  = "postgres"
    engine_version          = var.engine_version
    instance_class          = var.instance_class
    allocated_storage       = var.allocated_storage
    storage_encrypted       = true
    multi_az                = var.multi_az
    db_name                 = var.database_name
    backup_retention_period = var.backup_retention_days
    deletion_protection     = var.deletion_protection
    db_subnet_group_name    = terraform_data.subnet_group.output.name
    vpc_security_group_ids  = [terraform_data.security_group.output.id]
    master_user_secret_arn  = terraform_data.master_secret.output.arn
    endpoint                = local.endpoint
    tags                    = local.tags
  }

  lifecycle {
    precondition {
      condition     = var.allocated_storage >= 20 && var.allocated_storage <= 65536
      error_message = "allocated_storage must be 20-65536 GiB."
    }
  }
}

# Known after apply (as on AWS).
output "endpoint" {
  value = terraform_data.instance.output.endpoint
}

output "secret_arn" {
  value = terraform_data.master_secret.output.arn
}

# Plan-known.
output "port" {
  value = 5432
}

output "instance_id" {
  value = var.identifier
}

output "database_name" {
  value = var.database_name
}

output "security_group_id" {
  value = "sg-${substr(sha1("${var.vpc_id}/${var.identifier}/db"), 0, 17)}"
}

output "master_password" {
  description = "Stand-in for the generated master password. Sensitive: never pass it on; read secret_arn instead."
  sensitive   = true
  value       = substr(sha256("${local.secret_arn}/${var.vpc_id}/master"), 0, 32)
}

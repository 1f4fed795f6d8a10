# aws-eks-cluster — offline model of an EKS cluster and its managed node group.
#
# Built-in `terraform_data` only. The API endpoint and OIDC issuer carry a per-cluster id that
# AWS assigns at creation, so they go through `terraform_data.*.output` and are "known after
# apply" on the first plan; names and ARNs are plan-known.

terraform {
  required_version = ">= 1.6"
}

variable "cluster_name" {
  type = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$", var.cluster_name))
    error_message = "cluster_name: letters, digits, '-' and '_', at most 100 characters."
  }
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets for the control plane ENIs and nodes."

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "EKS needs subnets in at least two availability zones."
  }
}

variable "node_instance_type" {
  type = string
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

variable "cluster_version" {
  type    = string
  default = "1.31"

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.cluster_version))
    error_message = "cluster_version must be a quoted Kubernetes minor version such as \"1.31\" (unquoted YAML turns 1.30 into 1.3)."
  }
}

variable "node_count" {
  type    = number
  default = 2

  validation {
    condition     = var.node_count >= 1 && var.node_count <= 100
    error_message = "node_count must be 1-100."
  }
}

variable "endpoint_public_access" {
  type    = bool
  default = false
}

variable "tags" {
  type    = map(string)
  default = {}
}

locals {
  partition  = startswith(var.region, "us-gov-") ? "aws-us-gov" : startswith(var.region, "cn-") ? "aws-cn" : "aws"
  dns_suffix = startswith(var.region, "cn-") ? "amazonaws.com.cn" : "amazonaws.com"
  iam_prefix = "arn:${local.partition}:iam::${var.account_id}"
  # The id EKS assigns to the cluster's endpoint and OIDC issuer.
  cluster_uid = upper(substr(sha256("${var.account_id}/${var.region}/${var.cluster_name}"), 0, 32))
  tags        = merge(var.tags, { "kubernetes.io/cluster/${var.cluster_name}" = "owned" })
}

resource "terraform_data" "cluster_role" {
  input = {
    arn                 = "${local.iam_prefix}:role/${var.cluster_name}-cluster"
    managed_policy_arns = ["arn:${local.partition}:iam::aws:policy/AmazonEKSClusterPolicy"]
  }
}

resource "terraform_data" "node_role" {
  input = {
    arn = "${local.iam_prefix}:role/${var.cluster_name}-nodes"
    managed_policy_arns = [
      "arn:${local.partition}:iam::aws:policy/AmazonEKSWorkerNodePolicy",
      "arn:${local.partition}:iam::aws:policy/AmazonEKS_CNI_Policy",
      "arn:${local.partition}:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
    ]
  }
}

resource "terraform_data" "cluster" {
  input = {
    name                    = var.cluster_name
    arn                     = "arn:${local.partition}:eks:${var.region}:${var.account_id}:cluster/${var.cluster_name}"
    version                 = var.cluster_version
    role_arn                = terraform_data.cluster_role.output.arn
    subnet_ids              = var.subnet_ids
    endpoint_public_access  = var.endpoint_public_access
    endpoint_private_access = true
    endpoint                = "https://${local.cluster_uid}.gr7.${var.region}.eks.${local.dns_suffix}"
    oidc_issuer             = "oidc.eks.${var.region}.${local.dns_suffix}/id/${local.cluster_uid}"
    security_group_id       = "sg-${substr(sha1("${var.cluster_name}/cluster"), 0, 17)}"
    tags                    = local.tags
  }
}

resource "terraform_data" "node_group" {
  input = {
    cluster_name   = terraform_data.cluster.output.name
    node_role_arn  = terraform_data.node_role.output.arn
    instance_types = [var.node_instance_type]
    desired_size   = var.node_count
    min_size       = var.node_count
    max_size       = var.node_count * 2
    subnet_ids     = var.subnet_ids
  }
}

resource "terraform_data" "oidc_provider" {
  input = {
    arn       = "${local.iam_prefix}:oidc-provider/${terraform_data.cluster.output.oidc_issuer}"
    client_id = "sts.amazonaws.com"
  }
}

# Plan-known.
output "cluster_name" {
  value = var.cluster_name
}

output "cluster_arn" {
  value = "arn:${local.partition}:eks:${var.region}:${var.account_id}:cluster/${var.cluster_name}"
}

output "cluster_security_group_id" {
  value = "sg-${substr(sha1("${var.cluster_name}/cluster"), 0, 17)}"
}

output "node_role_arn" {
  value = "${local.iam_prefix}:role/${var.cluster_name}-nodes"
}

# Known after apply (as on AWS).
output "cluster_endpoint" {
  value = terraform_data.cluster.output.endpoint
}

output "oidc_provider_arn" {
  value = terraform_data.oidc_provider.output.arn
}

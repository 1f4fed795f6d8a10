# k8s-namespaces — offline model of namespaces on an EKS cluster.
#
# Built-in `terraform_data` only. Names are plan-known; the uids the API server assigns are known
# after apply.

terraform {
  required_version = ">= 1.9" # validation reading another variable
}

variable "cluster_name" {
  type = string
}

variable "cluster_endpoint" {
  type = string

  validation {
    condition     = startswith(var.cluster_endpoint, "https://")
    error_message = "cluster_endpoint must be an https:// URL."
  }
}

variable "namespaces" {
  type        = list(string)
  description = "Namespaces to create."

  validation {
    condition     = alltrue([for n in var.namespaces : can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", n))])
    error_message = "Namespace names must be DNS-1123 labels (lower case, digits, '-', at most 63)."
  }
}

variable "app_namespace" {
  type        = string
  description = "The namespace the application runs in; must be one of namespaces."

  validation {
    condition     = contains(var.namespaces, var.app_namespace)
    error_message = "app_namespace must be one of namespaces."
  }
}

variable "labels" {
  type    = map(string)
  default = {}
}

variable "quota" {
  type    = map(string)
  default = { cpu = "4", memory = "8Gi", pods = "30" }
}

resource "terraform_data" "namespace" {
  for_each = toset(var.namespaces)

  input = {
    cluster = var.cluster_name
    name    = each.key
    uid     = uuidv5("url", "${var.cluster_endpoint}/api/v1/namespaces/${each.key}")
    labels  = merge(var.labels, { "kubernetes.io/metadata.name" = each.key })
  }

}

resource "terraform_data" "resource_quota" {
  input = {
    namespace = terraform_data.namespace[var.app_namespace].output.name
    hard      = var.quota
  }
}

resource "terraform_data" "default_deny" {
  input = {
    namespace    = terraform_data.namespace[var.app_namespace].output.name
    policy_types = ["Ingress"]
  }
}

# Plan-known.
output "app_namespace" {
  value = var.app_namespace
}

output "namespaces" {
  value = var.namespaces
}

# Known after apply.
output "namespace_uids" {
  value = { for n in var.namespaces : n => terraform_data.namespace[n].output.uid }
}

# k8s-deployment — offline model of a web application on EKS behind an ALB ingress.
#
# Built-in `terraform_data` only. The ingress hostname is assigned by the AWS Load Balancer
# Controller, so service_url goes through `terraform_data.ingress.output` and is "known after
# apply"; the other outputs are plan-known.

terraform {
  required_version = ">= 1.6"
}

variable "app_name" {
  type = string

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$", var.app_name))
    error_message = "app_name must be a DNS-1123 label of at most 42 characters."
  }
}

variable "cluster_endpoint" {
  type = string
}

variable "namespace" {
  type = string
}

variable "image" {
  type        = string
  description = "Image with an immutable tag or digest."

  validation {
    condition     = !endswith(var.image, ":latest") && (strcontains(var.image, "@sha256:") || can(regex(":[A-Za-z0-9_][A-Za-z0-9_.-]*$", var.image)))
    error_message = "image needs an immutable tag or digest (not :latest, not untagged)."
  }
}

variable "replicas" {
  type = number

  validation {
    condition     = var.replicas >= 1 && floor(var.replicas) == var.replicas
    error_message = "replicas must be a whole number >= 1."
  }
}

variable "region" {
  type = string
}

variable "database_endpoint" {
  type = string
}

variable "database_secret_arn" {
  type = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:", var.database_secret_arn))
    error_message = "database_secret_arn must be a Secrets Manager ARN."
  }
}

variable "container_port" {
  type    = number
  default = 8080
}

variable "health_check_path" {
  type    = string
  default = "/healthz"
}

variable "env_vars" {
  type    = map(string)
  default = {}
}

variable "autoscaling" {
  type    = any
  default = null
}

locals {
  dns_suffix   = startswith(var.region, "cn-") ? "amazonaws.com.cn" : "amazonaws.com"
  max_replicas = try(var.autoscaling.max_replicas, var.replicas * 3)
  target_cpu   = try(var.autoscaling.target_cpu_percent, 70)
  lb_hash      = substr(sha1("${var.cluster_endpoint}/${var.namespace}/${var.app_name}"), 0, 10)
  lb_suffix    = parseint(substr(sha1("${var.region}/${var.namespace}/${var.app_name}"), 0, 8), 16)
  lb_name      = substr("k8s-${var.namespace}-${var.app_name}", 0, 21)
  env = merge(var.env_vars, {
    DB_HOST       = var.database_endpoint
    DB_SECRET_ARN = var.database_secret_arn
    PORT          = tostring(var.container_port)
  })
}

resource "terraform_data" "deployment" {
  input = {
    name      = var.app_name
    namespace = var.namespace
    replicas  = var.replicas
    image     = var.image
    port      = var.container_port
    env       = local.env
    probes    = { readiness = var.health_check_path, liveness = var.health_check_path }
  }
}

resource "terraform_data" "service" {
  input = {
    name      = var.app_name
    namespace = var.namespace
    type      = "ClusterIP"
    selector  = { app = terraform_data.deployment.output.name }
    port      = 80
    target    = var.container_port
  }
}

resource "terraform_data" "autoscaler" {
  input = {
    target             = terraform_data.deployment.output.name
    min_replicas       = var.replicas
    max_replicas       = local.max_replicas
    target_cpu_percent = local.target_cpu
  }

  lifecycle {
    precondition {
      condition     = local.max_replicas >= var.replicas
      error_message = "autoscaling.max_replicas must be at least replicas."
    }
  }
}

resource "terraform_data" "ingress" {
  input = {
    class        = "alb"
    namespace    = var.namespace
    service      = terraform_data.service.output.name
    health_check = var.health_check_path
    hostname     = "${local.lb_name}-${local.lb_hash}-${local.lb_suffix}.${var.region}.elb.${local.dns_suffix}"
  }
}

# Known after apply (the load balancer is created by the ingress controller).
output "service_url" {
  value = "http://${terraform_data.ingress.output.hostname}"
}

# Plan-known.
output "service_name" {
  value = "${var.app_name}.${var.namespace}.svc.cluster.local"
}

output "deployment_name" {
  value = var.app_name
}

output "image" {
  value = var.image
}

# aws-cloudwatch-dashboards — offline model of a site's dashboards and alarms.
#
# Built-in `terraform_data` only. Names and console URLs are plan-known (the console host
# follows the partition: GovCloud has its own); alarm ARNs are known after apply.

terraform {
  required_version = ">= 1.6"
}

variable "dashboard_prefix" {
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

variable "cluster_name" {
  type = string
}

variable "db_instance_id" {
  type = string
}

variable "distribution_id" {
  type = string
}

variable "certificate_arn" {
  type = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN."
  }
}

variable "service_name" {
  type    = string
  default = ""
}

variable "thresholds" {
  type    = map(number)
  default = {}
}

variable "alarm_subject" {
  type    = string
  default = "ALARM: #{AlarmName}"
}

variable "tags" {
  type    = map(string)
  default = {}
}

locals {
  partition = startswith(var.region, "us-gov-") ? "aws-us-gov" : startswith(var.region, "cn-") ? "aws-cn" : "aws"
  console   = local.partition == "aws-us-gov" ? "https://console.amazonaws-us-gov.com" : local.partition == "aws-cn" ? "https://console.amazonaws.cn" : "https://console.aws.amazon.com"
  thresholds = merge({
    db_cpu_percent     = 80
    error_rate_percent = 5
    p95_latency_ms     = 1000
    cert_days_left     = 30
  }, var.thresholds)

  dashboards = {
    overview   = ["ALB 5xx", "p95 latency", var.service_name]
    database   = ["RDS CPU ${var.db_instance_id}", "RDS connections", "RDS free storage"]
    kubernetes = ["EKS ${var.cluster_name} node CPU", "pod restarts"]
    edge       = ["CloudFront ${var.distribution_id} requests", "4xx rate", "5xx rate"]
  }

  alarms = {
    "db-cpu"      = { metric = "AWS/RDS CPUUtilization", dimension = var.db_instance_id, threshold = local.thresholds.db_cpu_percent }
    "edge-5xx"    = { metric = "AWS/CloudFront 5xxErrorRate", dimension = var.distribution_id, threshold = local.thresholds.error_rate_percent }
    "p95-latency" = { metric = "AWS/ApplicationELB TargetResponseTime p95", dimension = var.cluster_name, threshold = local.thresholds.p95_latency_ms }
    "cert-expiry" = { metric = "AWS/CertificateManager DaysToExpiry", dimension = var.certificate_arn, threshold = local.thresholds.cert_days_left }
  }
}

resource "terraform_data" "dashboard" {
  for_each = local.dashboards

  input = {
    name    = "${var.dashboard_prefix}-${each.key}"
    arn     = "arn:${local.partition}:cloudwatch::${var.account_id}:dashboard/${var.dashboard_prefix}-${each.key}"
    widgets = compact(each.value)
  }
}

resource "terraform_data" "alarm" {
  for_each = local.alarms

  input = {
    name      = "${var.dashboard_prefix}-${each.key}"
    arn       = "arn:${local.partition}:cloudwatch:${var.region}:${var.account_id}:alarm:${var.dashboard_prefix}-${each.key}"
    metric    = each.value.metric
    dimension = each.value.dimension
    threshold = each.value.threshold
    subject   = var.alarm_subject
    tags      = var.tags
  }
}

# Plan-known.
output "dashboard_names" {
  value = [for k in sort(keys(local.dashboards)) : "${var.dashboard_prefix}-${k}"]
}

output "dashboard_urls" {
  value = { for k in keys(local.dashboards) : k => "${local.console}/cloudwatch/home?region=${var.region}#dashboards/dashboard/${var.dashboard_prefix}-${k}" }
}

output "alarm_names" {
  value = [for k in sort(keys(local.alarms)) : "${var.dashboard_prefix}-${k}"]
}

# Known after apply.
output "alarm_arns" {
  value = [for k in sort(keys(local.alarms)) : terraform_data.alarm[k].output.arn]
}

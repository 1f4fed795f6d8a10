// Generates a realistic estate for benchmarks: a shared catalog of 27 module types and N sites,
// each deploying all 27 modules (an ordered DAG) to 4 environments in 4 AWS accounts.
// Everything is deterministic (seeded), valid per SPEC §2–§4, and written under a temp dir.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The estate on disk and what it holds. */
export interface Estate {
  root: string;
  layout: { configRoot: string; catalog: string };
  sites: string[];
  environments: string[];
  modulesPerSite: number;
  files: number;
  bytes: number;
  /** Every file written, relative to the root. */
  paths: string[];
  /** Removes the temp dir. */
  cleanup(): void;
}

export interface EstateOptions {
  sites?: number;
  /** Parent of the temp dir (default: the OS temp dir). */
  dir?: string;
  seed?: number;
}

// ---------------------------------------------------------------------------------------------
// The catalog: 27 module types in 10 tiers. `inputs` is compact: name:type, type one of
// s(tring) n(umber) b(ool) l(ist) m(ap) a(ny); "!" required, "*" sensitive.
// `values` are what every site writes for the module (placeholders resolved per site × env);
// each non-root module reads 1–3 upstream outputs, always of a lower tier.

interface CatalogType {
  type: string;
  /** The module's name in sites (default: the type). */
  name: string;
  tier: number;
  engine?: 'terraform' | 'command';
  services: string[];
  inputs: string;
  outputs: string[];
  mocks?: Record<string, unknown>;
  values: Record<string, unknown>;
  /** Optional inputs a site may leave out (picked per site). */
  optional?: Record<string, unknown>;
  dependsOn?: string[];
  /** A `config:` file for the module (lowest precedence). */
  config?: Record<string, unknown>;
  description: string;
}

const TAGS = {
  Site: '#{Site}',
  Environment: '#{Environment | ToUpper}',
  Owner: '#{Owner}',
  ManagedBy: 'site-deploy',
};

const CATALOG: CatalogType[] = [
  {
    type: 'aws-vpc',
    name: 'network',
    tier: 10,
    services: ['ec2'],
    inputs: 'name:s! cidr:s! region:s! az_count:n enable_flow_logs:b nat_per_az:b tags:m',
    outputs: [
      'vpc_id',
      'vpc_cidr',
      'availability_zones',
      'public_subnet_ids',
      'private_subnet_ids',
      'database_subnet_ids',
    ],
    mocks: { vpc_id: 'vpc-00000000', vpc_cidr: '10.0.0.0/16' },
    values: { name: '#{SiteSlug}-#{Environment}', cidr: '#{vpc_cidr}', region: '#{Region}', tags: TAGS },
    config: { az_count: 3, enable_flow_logs: true, nat_per_az: false },
    description: 'A VPC with public, private and database subnets across availability zones.',
  },
  {
    type: 'aws-kms-key',
    name: 'kms',
    tier: 20,
    services: ['kms'],
    inputs: 'alias:s! description:s deletion_window_days:n vpc_id:s tags:m',
    outputs: ['key_arn', 'key_id', 'alias_arn'],
    mocks: { key_arn: 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000' },
    values: { alias: 'alias/#{SiteSlug}-#{Environment}', vpc_id: '#{network.vpc_id}', tags: TAGS },
    optional: { deletion_window_days: 30, description: 'Data key of #{Site} in #{Environment}' },
    description: 'A customer-managed KMS key for the site, usable from the VPC endpoint.',
  },
  {
    type: 'aws-iam-roles',
    name: 'iam',
    tier: 20,
    services: ['iam'],
    inputs: 'role_prefix:s! permissions_boundary:s! vpc_id:s! account_id:s! tags:m',
    outputs: ['node_role_arn', 'app_role_arn', 'lambda_role_arn', 'backup_role_arn'],
    values: {
      role_prefix: '#{SiteSlug}-#{Environment | ToLower}',
      permissions_boundary: 'arn:aws:iam::#{Account}:policy/site-deploy-boundary',
      vpc_id: '#{network.vpc_id}',
      account_id: '#{Account}',
      tags: TAGS,
    },
    description: 'Service roles of the site: EKS nodes, the application, lambdas and backups.',
  },
  {
    type: 'aws-s3-logs',
    name: 'logs-bucket',
    tier: 20,
    services: ['s3'],
    inputs: 'bucket_name:s! retention_days:n! vpc_id:s versioning:b tags:m',
    outputs: ['bucket_name', 'bucket_arn', 'bucket_domain_name'],
    values: {
      bucket_name: '#{SiteSlug}-#{Environment}-logs-#{Account}',
      retention_days: '#{retention_days}',
      vpc_id: '#{network.vpc_id}',
    },
    optional: { versioning: true, tags: TAGS },
    description: 'The access-log bucket of the CDN, the load balancer and the WAF.',
  },
  {
    type: 'aws-security-groups',
    name: 'security-groups',
    tier: 20,
    services: ['ec2'],
    inputs: 'vpc_id:s! vpc_cidr:s! app_port:n ingress_cidrs:l tags:m',
    outputs: ['app_sg_id', 'db_sg_id', 'cache_sg_id', 'lb_sg_id'],
    mocks: { app_sg_id: 'sg-00000000', lb_sg_id: 'sg-00000001' },
    values: {
      vpc_id: '#{network.vpc_id}',
      vpc_cidr: '#{network.vpc_cidr}',
      app_port: 8080,
      ingress_cidrs: ['0.0.0.0/0'],
    },
    optional: { tags: TAGS },
    description: 'Security groups of every tier: load balancer, app, database and cache.',
  },
  {
    type: 'aws-secrets',
    name: 'secrets',
    tier: 30,
    services: ['secretsmanager', 'kms'],
    inputs: 'prefix:s! kms_key_arn:s! secret_names:l! recovery_window_days:n tags:m',
    outputs: ['db_secret_arn', 'app_secret_arn', 'secret_arns'],
    values: {
      prefix: '#{SiteSlug}/#{Environment}',
      kms_key_arn: '#{kms.key_arn}',
      secret_names: ['db', 'app', 'api-keys'],
    },
    optional: { recovery_window_days: 7 },
    description: 'Secrets Manager entries of the site, encrypted with the site key.',
  },
  {
    type: 'aws-rds-postgres',
    name: 'database',
    tier: 30,
    services: ['rds', 'secretsmanager'],
    inputs:
      'identifier:s! engine_version:s! instance_class:s! allocated_storage:n! multi_az:b subnet_ids:l! security_group_ids:l! kms_key_arn:s! backup_retention_days:n deletion_protection:b master_password:s* tags:m',
    outputs: ['endpoint', 'port', 'database_name', 'db_arn', 'identifier', 'master_secret_arn'],
    mocks: { endpoint: 'mock-db.cluster-000000000000.us-east-1.rds.amazonaws.com', port: 5432 },
    values: {
      identifier: '#{SiteSlug}-#{Environment}',
      instance_class: '#{db_instance_class}',
      allocated_storage: '#{db_storage_gb}',
      multi_az: '#{db_multi_az}',
      subnet_ids: '#{network.database_subnet_ids}',
      security_group_ids: ['#{security-groups.db_sg_id}'],
      kms_key_arn: '#{kms.key_arn}',
      tags: TAGS,
    },
    config: { engine_version: '16.4', backup_retention_days: 14, deletion_protection: true },
    description: 'A PostgreSQL instance in the database subnets; its password lives in Secrets Manager.',
  },
  {
    type: 'aws-eks-cluster',
    name: 'cluster',
    tier: 30,
    services: ['eks', 'ec2', 'iam'],
    inputs:
      'cluster_name:s! cluster_version:s! subnet_ids:l! node_role_arn:s! node_instance_type:s! node_count:n! kms_key_arn:s region:s! tags:m',
    outputs: ['cluster_name', 'cluster_endpoint', 'cluster_ca', 'oidc_provider_arn', 'node_group_name'],
    mocks: { cluster_endpoint: 'https://00000000000000000000000000000000.gr7.us-east-1.eks.amazonaws.com' },
    values: {
      cluster_name: '#{SiteSlug}-#{Environment}',
      subnet_ids: '#{network.private_subnet_ids}',
      node_role_arn: '#{iam.node_role_arn}',
      node_instance_type: '#{instance_type}',
      node_count: '#{node_count}',
      kms_key_arn: '#{kms.key_arn}',
      region: '#{Region}',
      tags: TAGS,
    },
    config: { cluster_version: '1.31' },
    description: 'An EKS cluster with one managed node group in the private subnets.',
  },
  {
    type: 'aws-elasticache-redis',
    name: 'cache',
    tier: 30,
    services: ['elasticache'],
    inputs:
      'cluster_id:s! node_type:s! subnet_ids:l! security_group_ids:l! num_cache_nodes:n transit_encryption:b tags:m',
    outputs: ['primary_endpoint', 'reader_endpoint', 'port'],
    values: {
      cluster_id: '#{SiteSlug}-#{Environment}',
      node_type: '#{cache_node_type}',
      subnet_ids: '#{network.private_subnet_ids}',
      security_group_ids: ['#{security-groups.cache_sg_id}'],
    },
    optional: { num_cache_nodes: 2, transit_encryption: true, tags: TAGS },
    description: 'A Redis replication group for sessions and queues.',
  },
  {
    type: 'aws-sqs-queues',
    name: 'queues',
    tier: 30,
    services: ['sqs'],
    inputs: 'prefix:s! queues:l! kms_key_arn:s! visibility_timeout:n max_receive_count:n tags:m',
    outputs: ['queue_urls', 'queue_arns', 'dlq_arn'],
    values: {
      prefix: '#{SiteSlug}-#{Environment}',
      queues: ['jobs', 'emails', 'webhooks'],
      kms_key_arn: '#{kms.key_arn}',
    },
    optional: { visibility_timeout: 120, max_receive_count: 5, tags: TAGS },
    description: 'Work queues with a shared dead-letter queue.',
  },
  {
    type: 'aws-sns-topics',
    name: 'topics',
    tier: 30,
    services: ['sns'],
    inputs: 'prefix:s! kms_key_arn:s! email_subscriptions:l tags:m',
    outputs: ['alarm_topic_arn', 'events_topic_arn'],
    mocks: { alarm_topic_arn: 'arn:aws:sns:us-east-1:000000000000:mock-alarms' },
    values: {
      prefix: '#{SiteSlug}-#{Environment}',
      kms_key_arn: '#{kms.key_arn}',
      email_subscriptions: ['#{alarm_email}'],
    },
    optional: { tags: TAGS },
    description: 'Alarm and event topics.',
  },
  {
    type: 'k8s-namespaces',
    name: 'namespaces',
    tier: 40,
    services: ['eks'],
    inputs: 'cluster_name:s! cluster_endpoint:s! namespaces:l! app_namespace:s! labels:m quota:a',
    outputs: ['app_namespace', 'jobs_namespace', 'namespaces'],
    values: {
      cluster_name: '#{cluster.cluster_name}',
      cluster_endpoint: '#{cluster.cluster_endpoint}',
      namespaces: ['#{SiteSlug}', '#{SiteSlug}-jobs', 'observability'],
      app_namespace: '#{SiteSlug}',
      labels: { environment: '#{Environment}', lifecycle: '#{Lifecycle}', owner: '#{Owner}' },
    },
    optional: { quota: { cpu: '#{namespace_cpu}', memory: '16Gi', pods: '50' } },
    description: 'Namespaces, quotas and labels inside the cluster.',
  },
  {
    type: 'aws-ecr-repos',
    name: 'registry',
    tier: 40,
    services: ['ecr'],
    inputs: 'repositories:l! kms_key_arn:s! pull_role_arns:l! scan_on_push:b image_tag_mutability:s',
    outputs: ['repository_urls', 'registry_id'],
    values: {
      repositories: ['#{SiteSlug}/web', '#{SiteSlug}/worker'],
      kms_key_arn: '#{kms.key_arn}',
      pull_role_arns: ['#{iam.node_role_arn}'],
    },
    optional: { scan_on_push: true, image_tag_mutability: 'IMMUTABLE' },
    description: 'Container image repositories of the app and the workers.',
  },
  {
    type: 'aws-opensearch',
    name: 'search',
    tier: 40,
    services: ['es'],
    inputs:
      'domain_name:s! engine_version:s! instance_type:s! subnet_ids:l! security_group_ids:l! kms_key_arn:s! tags:m',
    outputs: ['domain_endpoint', 'domain_arn', 'dashboard_endpoint'],
    values: {
      domain_name: '#{SiteSlug | ToLower}-#{Environment}',
      engine_version: 'OpenSearch_2.13',
      instance_type: 'r6g.large.search',
      subnet_ids: '#{network.private_subnet_ids}',
      security_group_ids: ['#{security-groups.app_sg_id}'],
      kms_key_arn: '#{kms.key_arn}',
    },
    optional: { tags: TAGS },
    description: 'A search domain for the application, inside the VPC.',
  },
  {
    type: 'aws-dynamodb-tables',
    name: 'tables',
    tier: 40,
    services: ['dynamodb'],
    inputs: 'prefix:s! tables:l! kms_key_arn:s! billing_mode:s point_in_time_recovery:b tags:m',
    outputs: ['table_names', 'table_arns', 'stream_arn'],
    values: {
      prefix: '#{SiteSlug}-#{Environment}',
      tables: ['sessions', 'feature-flags', 'audit'],
      kms_key_arn: '#{kms.key_arn}',
    },
    optional: { billing_mode: 'PAY_PER_REQUEST', point_in_time_recovery: true, tags: TAGS },
    description: 'DynamoDB tables with a change stream on the audit table.',
  },
  {
    type: 'k8s-deployment',
    name: 'application',
    tier: 50,
    services: ['eks', 'ecr'],
    inputs:
      'app_name:s! cluster_endpoint:s! namespace:s! image:s! replicas:n! region:s! database_endpoint:s! database_secret_arn:s container_port:n health_check_path:s env_vars:m autoscaling:a',
    outputs: ['service_url', 'service_name', 'deployment_name', 'image'],
    mocks: { service_url: 'http://k8s-mock-00000000-0000000000.us-east-1.elb.amazonaws.com' },
    values: {
      app_name: 'web',
      cluster_endpoint: '#{cluster.cluster_endpoint}',
      namespace: '#{namespaces.app_namespace}',
      image: '#{Account}.dkr.ecr.#{Region}.amazonaws.com/#{SiteSlug}/web:#{app_version}',
      replicas: '#{replicas}',
      region: '#{Region}',
      database_endpoint: '#{database.endpoint}',
      env_vars: {
        APP_ENV: '#{Environment | ToUpper}',
        PUBLIC_URL: '#{app_url}',
        LOG_LEVEL: '#{log_level}',
        LITERAL: '##{not-a-placeholder}',
      },
      autoscaling: { max_replicas: '#{max_replicas}', target_cpu_percent: 65 },
    },
    optional: { container_port: 8080, health_check_path: '/healthz' },
    dependsOn: ['secrets', 'cache'],
    description: 'The web application: Deployment, Service, HPA and an ALB ingress.',
  },
  {
    type: 'k8s-worker',
    name: 'worker',
    tier: 50,
    services: ['eks', 'sqs'],
    inputs: 'namespace:s! image:s! queue_urls:a! redis_endpoint:s! concurrency:n replicas:n! env_vars:m',
    outputs: ['deployment_name', 'service_account'],
    values: {
      namespace: '#{namespaces.jobs_namespace}',
      image: '#{Account}.dkr.ecr.#{Region}.amazonaws.com/#{SiteSlug}/worker:#{app_version}',
      queue_urls: '#{queues.queue_urls}',
      redis_endpoint: '#{cache.primary_endpoint}',
      replicas: '#{replicas}',
      env_vars: { APP_ENV: '#{Environment | ToUpper}', LOG_LEVEL: '#{log_level}' },
    },
    optional: { concurrency: 8 },
    description: 'Background workers reading the queues.',
  },
  {
    type: 'aws-lambda-functions',
    name: 'functions',
    tier: 50,
    services: ['lambda', 'iam'],
    inputs:
      'prefix:s! role_arn:s! stream_arn:s! subnet_ids:l! runtime:s memory_mb:n timeout_s:n environment:m',
    outputs: ['function_arns', 'function_names'],
    values: {
      prefix: '#{SiteSlug}-#{Environment}',
      role_arn: '#{iam.lambda_role_arn}',
      stream_arn: '#{tables.stream_arn}',
      subnet_ids: '#{network.private_subnet_ids}',
      environment: { STAGE: '#{Environment}', SITE: '#{Site | UriEscape}' },
    },
    optional: { runtime: 'nodejs22.x', memory_mb: 512, timeout_s: 30 },
    description: 'Stream processors and scheduled jobs.',
  },
  {
    type: 'aws-alb',
    name: 'load-balancer',
    tier: 60,
    services: ['elasticloadbalancing', 'ec2'],
    inputs:
      'name:s! subnet_ids:l! security_group_ids:l! target_service:s! idle_timeout:n access_logs_bucket:s tags:m',
    outputs: ['dns_name', 'zone_id', 'arn', 'arn_suffix'],
    mocks: { dns_name: 'mock-alb-000000000.us-east-1.elb.amazonaws.com' },
    values: {
      name: '#{SiteSlug}-#{Environment}',
      subnet_ids: '#{network.public_subnet_ids}',
      security_group_ids: ['#{security-groups.lb_sg_id}'],
      target_service: '#{application.service_name}',
    },
    optional: { idle_timeout: 60, tags: TAGS },
    description: 'The public application load balancer in front of the app.',
  },
  {
    type: 'aws-waf',
    name: 'waf',
    tier: 60,
    services: ['wafv2'],
    inputs: 'name:s! scope:s! log_bucket_arn:s! rate_limit:n managed_rules:l',
    outputs: ['web_acl_arn', 'web_acl_id'],
    values: {
      name: '#{SiteSlug}-#{Environment}',
      scope: 'CLOUDFRONT',
      log_bucket_arn: '#{logs-bucket.bucket_arn}',
    },
    optional: {
      rate_limit: 2000,
      managed_rules: ['AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet'],
    },
    description: 'A WAF web ACL for the distribution.',
  },
  {
    type: 'aws-cloudfront-distribution',
    name: 'cdn',
    tier: 70,
    services: ['cloudfront'],
    inputs: 'origin:s! aliases:l web_acl_arn:s! logs_bucket:s! comment:s price_class:s default_ttl:n',
    outputs: ['domain_name', 'hosted_zone_id', 'distribution_id', 'distribution_arn'],
    mocks: { domain_name: 'd0000000000000.cloudfront.net', hosted_zone_id: 'Z2FDTNDATAQYW2' },
    values: {
      origin: '#{load-balancer.dns_name}',
      aliases: ['#{domain}', 'www.#{domain}'],
      web_acl_arn: '#{waf.web_acl_arn}',
      logs_bucket: '#{logs-bucket.bucket_name}',
      comment: '#{Site} #{Environment | ToUpper}',
      price_class: '#{cdn_price_class}',
    },
    optional: { default_ttl: 120 },
    dependsOn: ['certificate-request'],
    description: 'The CloudFront distribution serving the site.',
  },
  {
    type: 'aws-route53-records',
    name: 'dns',
    tier: 80,
    services: ['route53'],
    inputs: 'zone_name:s! alias_target:s! alias_zone_id:s! cname_hosts:l ttl:n',
    outputs: ['zone_id', 'fqdn', 'record_names'],
    values: {
      zone_name: '#{domain}',
      alias_target: '#{cdn.domain_name}',
      alias_zone_id: '#{cdn.hosted_zone_id}',
      cname_hosts: ['www'],
    },
    optional: { ttl: 300 },
    description: 'DNS records of the site: apex alias and www.',
  },
  {
    type: 'aws-acm-certificate',
    name: 'certificate',
    tier: 90,
    services: ['acm', 'route53'],
    inputs: 'domain_name:s! subject_alternative_names:l zone_id:s! validation_fqdn:s! region:s!',
    outputs: ['certificate_arn', 'status'],
    values: {
      domain_name: '#{domain}',
      subject_alternative_names: ['www.#{domain}'],
      zone_id: '#{dns.zone_id}',
      validation_fqdn: '#{dns.fqdn}',
      region: 'us-east-1',
    },
    description: 'The TLS certificate, validated through DNS.',
  },
  {
    type: 'aws-cloudwatch-dashboards',
    name: 'monitoring',
    tier: 100,
    services: ['cloudwatch'],
    inputs:
      'dashboard_name:s! load_balancer_arn:s! distribution_id:s! db_identifier:s! p95_latency_ms:n widgets:l',
    outputs: ['dashboard_arn', 'dashboard_url'],
    values: {
      dashboard_name: '#{SiteSlug}-#{Environment}',
      load_balancer_arn: '#{load-balancer.arn_suffix}',
      distribution_id: '#{cdn.distribution_id}',
      db_identifier: '#{database.identifier}',
    },
    optional: { p95_latency_ms: 500, widgets: ['latency', 'errors', 'saturation', 'traffic'] },
    description: 'Dashboards of the golden signals; staging and production only.',
  },
  {
    type: 'aws-cloudwatch-alarms',
    name: 'alarms',
    tier: 100,
    services: ['cloudwatch', 'sns'],
    inputs: 'prefix:s! topic_arn:s! load_balancer_arn:s! db_identifier:s! thresholds:m',
    outputs: ['alarm_arns', 'alarm_names'],
    values: {
      prefix: '#{SiteSlug}-#{Environment}',
      topic_arn: '#{topics.alarm_topic_arn}',
      load_balancer_arn: '#{load-balancer.arn_suffix}',
      db_identifier: '#{database.identifier}',
    },
    optional: { thresholds: { http_5xx_rate: 0.02, db_cpu_percent: 80, latency_p99_ms: 1500 } },
    description: 'Alarms on errors, latency and saturation, to the alarm topic.',
  },
  {
    type: 'aws-backup-plan',
    name: 'backup',
    tier: 100,
    services: ['backup', 'iam'],
    inputs: 'plan_name:s! role_arn:s! resource_arns:l! schedule:s retention_days:n!',
    outputs: ['plan_id', 'vault_arn'],
    values: {
      plan_name: '#{SiteSlug}-#{Environment}',
      role_arn: '#{iam.backup_role_arn}',
      resource_arns: ['#{database.db_arn}', '#{tables.table_arns}'],
      retention_days: '#{retention_days}',
    },
    optional: { schedule: 'cron(0 5 * * ? *)' },
    description: 'Daily backups of the database and the tables.',
  },
];

// The 27th type: a `command` engine module that requests the certificate early so the CDN can
// reference it (depends_on edge, no outputs read). Keeps one non-terraform engine in the mix.
CATALOG.splice(20, 0, {
  type: 'acm-request',
  name: 'certificate-request',
  tier: 60,
  engine: 'command',
  services: ['acm'],
  inputs: 'domain:s! alternative_names:l log_bucket:s!',
  outputs: ['request_id'],
  values: {
    domain: '#{domain | ToLower}',
    alternative_names: ['www.#{domain}'],
    log_bucket: '#{logs-bucket.bucket_name}',
  },
  description: 'Requests the certificate in us-east-1 ahead of the distribution (a script).',
});

export const CATALOG_SIZE = CATALOG.length;

const ENVIRONMENTS = ['dev', 'qa', 'staging', 'production'] as const;
type Env = (typeof ENVIRONMENTS)[number];
const RESERVED = new Set([
  'type',
  'name',
  'weight',
  'config',
  'inputs',
  'depends_on',
  'environments',
  'outputs',
]);

// ---------------------------------------------------------------------------------------------
// A tiny YAML emitter: block maps and lists, flow style for short scalar-only collections.

function scalar(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null) return 'null';
  const s = String(v);
  // Plain when unambiguous; double-quoted (JSON is valid YAML) otherwise.
  if (/^[A-Za-z_/][A-Za-z0-9_./@+-]*$/.test(s) && !/^(true|false|yes|no|on|off|null|y|n)$/i.test(s)) return s;
  return JSON.stringify(s);
}

const isScalarValue = (v: unknown): boolean => v === null || typeof v !== 'object';

function flow(v: unknown): string | undefined {
  if (isScalarValue(v)) return scalar(v);
  if (Array.isArray(v)) {
    if (!v.every(isScalarValue)) return undefined;
    const s = `[${v.map(scalar).join(', ')}]`;
    return s.length <= 90 ? s : undefined;
  }
  const entries = Object.entries(v as Record<string, unknown>);
  if (!entries.every(([, x]) => isScalarValue(x))) return undefined;
  const s = `{ ${entries.map(([k, x]) => `${k}: ${scalar(x)}`).join(', ')} }`;
  return s.length <= 100 ? s : undefined;
}

function block(v: unknown, indent: number): string[] {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  if (Array.isArray(v)) {
    for (const x of v) {
      const f = flow(x);
      if (f !== undefined && (isScalarValue(x) || Array.isArray(x))) lines.push(`${pad}- ${f}`);
      else {
        const inner = block(x, indent + 2);
        lines.push(`${pad}- ${(inner[0] ?? '').trimStart()}`, ...inner.slice(1));
      }
    }
    return lines;
  }
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const f = flow(x);
    if (f !== undefined) lines.push(`${pad}${k}: ${f}`);
    else lines.push(`${pad}${k}:`, ...block(x, indent + 2));
  }
  return lines;
}

const yaml = (v: unknown, header = ''): string => `${header}${block(v, 0).join('\n')}\n`;

// ---------------------------------------------------------------------------------------------

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS_A = [
  'client',
  'partner',
  'billing',
  'claims',
  'member',
  'vendor',
  'field',
  'agent',
  'patient',
  'fleet',
  'grants',
  'tax',
  'permit',
  'citizen',
  'case',
  'records',
  'supply',
  'payroll',
  'learning',
  'benefits',
];
const WORDS_B = [
  'portal',
  'api',
  'hub',
  'console',
  'gateway',
  'service',
  'tracker',
  'exchange',
  'desk',
  'registry',
];

function siteName(i: number): string {
  return `${WORDS_A[i % WORDS_A.length]}-${WORDS_B[Math.floor(i / WORDS_A.length) % WORDS_B.length]}-${String(i).padStart(3, '0')}`;
}

function parseInputs(
  spec: string,
): Record<string, { type: string; required?: boolean; sensitive?: boolean }> {
  const types: Record<string, string> = {
    s: 'string',
    n: 'number',
    b: 'bool',
    l: 'list',
    m: 'map',
    a: 'any',
  };
  const out: Record<string, { type: string; required?: boolean; sensitive?: boolean }> = {};
  for (const part of spec.split(/\s+/).filter(Boolean)) {
    const m = /^([a-z_0-9]+):([snblma])([!*]*)$/.exec(part);
    if (!m) throw new Error(`bad input spec ${part}`);
    const decl: { type: string; required?: boolean; sensitive?: boolean } = {
      type: types[m[2] as string] as string,
    };
    if (m[3]?.includes('!')) decl.required = true;
    else decl.required = false;
    if (m[3]?.includes('*')) decl.sensitive = true;
    out[m[1] as string] = decl;
  }
  return out;
}

function manifestYaml(t: CatalogType): string {
  const inputs = parseInputs(t.inputs);
  const doc: Record<string, unknown> = {
    description: t.description,
    engine: t.engine ?? 'terraform',
    services: t.services,
    inputs,
    outputs: t.outputs,
  };
  if (t.mocks) doc.mock_outputs = t.mocks;
  return yaml(doc, `# ${t.type}: catalog manifest (generated for benchmarks)\n`);
}

interface SiteShape {
  name: string;
  index: number;
  /** Explicit weights (tiers) or the default 10 × position. */
  explicitWeights: boolean;
  filterSearch: boolean;
}

function moduleEntry(
  t: CatalogType,
  position: number,
  shape: SiteShape,
  r: () => number,
): { entry: Record<string, unknown>; config?: [string, Record<string, unknown>] } {
  const entry: Record<string, unknown> = { type: t.type };
  if (t.name !== t.type || r() < 0.5) entry.name = t.name;
  if (shape.explicitWeights) entry.weight = t.tier;
  const values: Record<string, unknown> = { ...t.values };
  for (const [k, v] of Object.entries(t.optional ?? {})) if (r() < 0.6) values[k] = v;
  let config: [string, Record<string, unknown>] | undefined;
  if (t.config) {
    entry.config = `modules/${t.name}.yaml`;
    config = [`modules/${t.name}.yaml`, t.config];
  }
  // Style: seed keys, `inputs:`, or a mix; reserved names always go through `inputs:`.
  const style = (position + shape.index) % 3;
  const seed: Record<string, unknown> = {};
  const inputs: Record<string, unknown> = {};
  Object.entries(values).forEach(([k, v], i) => {
    const viaInputs = RESERVED.has(k) || style === 1 || (style === 2 && i % 2 === 1);
    (viaInputs ? inputs : seed)[k] = v;
  });
  Object.assign(entry, seed);
  if (Object.keys(inputs).length) entry.inputs = inputs;
  if (t.dependsOn) entry.depends_on = t.dependsOn;
  if (t.name === 'monitoring') entry.environments = ['staging', 'production'];
  if (t.name === 'search' && shape.filterSearch) entry.environments = ['qa', 'staging', 'production'];
  return { entry, config };
}

function region(env: Env, siteIndex: number): string {
  if (env === 'production') return siteIndex % 5 === 0 ? 'us-gov-west-1' : 'us-east-1';
  return { dev: 'us-east-2', qa: 'us-east-2', staging: 'us-west-2' }[env];
}

const partition = (reg: string): string =>
  reg.startsWith('us-gov-') ? 'aws-us-gov' : reg.startsWith('cn-') ? 'aws-cn' : 'aws';

function environmentYaml(site: string, env: Env, siteIndex: number): string {
  const big = env === 'production' || env === 'staging';
  const domain = env === 'production' ? `${site}.example.com` : `${env}.${site}.example.com`;
  const doc = {
    environment: env,
    lifecycle: env === 'dev' || env === 'qa' ? 'ephemeral' : 'long-lived',
    variables: {
      domain,
      app_url: 'https://#{domain}',
      alarm_email: 'ops+#{Environment | ToLower}@#{domain}',
      vpc_cidr: `10.${(siteIndex * 4 + ENVIRONMENTS.indexOf(env)) % 250}.0.0/16`,
      instance_type: big ? 'm6i.xlarge' : 't3.large',
      node_count: big ? 6 : 2,
      replicas: big ? 4 : 1,
      max_replicas: big ? 12 : 2,
      namespace_cpu: big ? '32' : '4',
      app_version: env === 'production' ? '2.13.2' : '2.14.0',
      log_level: env === 'production' ? 'warn' : 'debug',
      db_instance_class: big ? 'db.r6g.xlarge' : 'db.t4g.medium',
      db_storage_gb: big ? 500 : 20,
      db_multi_az: big,
      cache_node_type: big ? 'cache.r7g.large' : 'cache.t4g.small',
      cdn_price_class: env === 'production' ? 'PriceClass_All' : 'PriceClass_100',
      retention_days: env === 'production' ? 35 : 7,
    },
    verification: {
      probes: [
        {
          name: 'healthz',
          type: 'http',
          url: '#{app_url}/healthz',
          expect: { status: 200, body_contains: 'ok', latency_ms_max: big ? 500 : 1500 },
        },
        { name: 'www-cname', type: 'dns', record: 'www.#{domain}', expect: { cname: '#{cdn.domain_name}' } },
        {
          name: 'certificate',
          type: 'tls',
          host: '#{domain | ToLower}',
          expect: { issuer: 'Amazon', days_until_expiry_min: 21 },
        },
      ],
    },
  };
  return yaml(doc, `# ${site} / ${env}\n`);
}

function credentialsYaml(site: string, siteIndex: number): string {
  const allServices = [...new Set(CATALOG.flatMap((t) => t.services))].sort();
  const creds: Record<string, unknown> = {};
  ENVIRONMENTS.forEach((env, e) => {
    const reg = region(env, siteIndex);
    const p = partition(reg);
    const account = String(100000000000 + siteIndex * 10 + e);
    const entry: Record<string, unknown> = {
      aws_account: account,
      role: `arn:${p}:iam::${account}:role/site-deploy-${site}-${env}`,
      plan_role: `arn:${p}:iam::${account}:role/site-deploy-${site}-${env}-ro`,
    };
    if (env === 'staging') entry.via = 'arn:aws:iam::999988887777:role/site-deploy-oidc-hub';
    Object.assign(entry, {
      region: reg,
      session_duration: env === 'staging' ? 3600 : env === 'production' ? 1800 : 7200,
      boundary_policy: `arn:${p}:iam::${account}:policy/site-deploy-boundary`,
      allowed_services: allServices,
    });
    if (env === 'production') entry.require_mfa = true;
    creds[env] = entry;
  });
  return yaml(
    { credentials: creds },
    `# ${site}: one AWS identity per environment, each in its own account\n`,
  );
}

function siteYaml(
  shape: SiteShape,
  r: () => number,
): { text: string; configs: [string, Record<string, unknown>][] } {
  const configs: [string, Record<string, unknown>][] = [];
  const modules = CATALOG.map((t, i) => {
    const { entry, config } = moduleEntry(t, i + 1, shape, r);
    if (config) configs.push(config);
    return entry;
  });
  const site: Record<string, unknown> = {
    name: shape.name,
    owner: `team-${WORDS_A[shape.index % 7]}`,
    halt_on_failure: shape.index % 4 !== 0,
    promotion: [...ENVIRONMENTS],
    state: {
      backend: 's3',
      bucket: `acme-tfstate-${shape.name}`,
      region: '#{Region}',
      key_prefix: 'sites/#{Site}/#{Environment}',
    },
    modules,
  };
  // Half the sites list their environments; the others rely on discovery of environments/*.yaml.
  if (shape.index % 2 === 0)
    site.environments = ENVIRONMENTS.map((e) => ({ path: `environments/${e}.yaml` }));
  return {
    text: yaml({ site }, `# ${shape.name}: generated benchmark site, ${modules.length} modules\n`),
    configs,
  };
}

/** Writes the estate under a new temp dir. */
export function generateEstate(options: EstateOptions = {}): Estate {
  const siteCount = options.sites ?? 200;
  const root = mkdtempSync(join(options.dir ?? tmpdir(), 'site-deploy-estate-'));
  let files = 0;
  let bytes = 0;
  const paths: string[] = [];
  const write = (rel: string, text: string): void => {
    const abs = join(root, ...rel.split('/'));
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, text);
    files++;
    paths.push(rel);
    bytes += Buffer.byteLength(text);
  };
  for (const t of CATALOG) {
    write(`modules/${t.type}/module.yaml`, manifestYaml(t));
    if ((t.engine ?? 'terraform') === 'terraform') {
      const vars = Object.keys(parseInputs(t.inputs))
        .map((k) => `variable "${k}" {}`)
        .join('\n');
      const outs = t.outputs.map((o) => `output "${o}" { value = terraform_data.this.output }`).join('\n');
      write(
        `modules/${t.type}/main.tf`,
        `${vars}\nresource "terraform_data" "this" { input = var.${Object.keys(parseInputs(t.inputs))[0]} }\n${outs}\n`,
      );
    } else {
      // A command module runs its folder's executable plan and apply (validate checks both).
      for (const exe of ['plan', 'apply']) {
        write(`modules/${t.type}/${exe}`, '#!/bin/sh\nset -eu\necho "request_id=mock"\n');
        chmodSync(join(root, 'modules', t.type, exe), 0o755);
      }
    }
  }
  const sites: string[] = [];
  for (let i = 0; i < siteCount; i++) {
    const r = rng((options.seed ?? 42) * 100003 + i);
    const name = siteName(i);
    sites.push(name);
    const shape: SiteShape = { name, index: i, explicitWeights: i % 7 !== 3, filterSearch: i % 3 === 0 };
    const { text, configs } = siteYaml(shape, r);
    write(`sites/${name}/site.yaml`, text);
    for (const [path, cfg] of configs)
      write(
        `sites/${name}/${path}`,
        yaml(cfg, `# inputs of ${path.replace(/^modules\/|\.yaml$/g, '')} (lowest precedence)\n`),
      );
    write(`sites/${name}/credentials.yaml`, credentialsYaml(name, i));
    for (const env of ENVIRONMENTS)
      write(`sites/${name}/environments/${env}.yaml`, environmentYaml(name, env, i));
  }
  return {
    root,
    layout: { configRoot: 'sites', catalog: 'modules' },
    sites,
    environments: [...ENVIRONMENTS],
    modulesPerSite: CATALOG.length,
    files,
    bytes,
    paths,
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

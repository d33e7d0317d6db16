/**
 * Test copies of the shipped monitoring configuration (deploy/prometheus/): the same files with only what a
 * test on one machine must change — the addresses (free ports on 127.0.0.1), the scrape and evaluation
 * intervals, the `for` of the alert under test, and Alertmanager's group wait. Rules and routes are the real
 * ones, so the acceptance test exercises what users deploy, not a stand-in.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { PACKAGE_ROOT } from '../../lib/package-root.js';

export const PROMETHEUS_DIR = join(PACKAGE_ROOT, 'deploy', 'prometheus');

interface RuleFile {
  groups: { name: string; rules: { alert?: string; record?: string; for?: string }[] }[];
}

interface PrometheusFile {
  global?: Record<string, unknown>;
  rule_files?: string[];
  alerting?: { alertmanagers?: { static_configs?: { targets: string[] }[] }[] };
  scrape_configs?: { job_name: string; static_configs?: { targets: string[] }[] }[];
}

interface Route {
  group_wait?: string;
  group_interval?: string;
  routes?: Route[];
}

interface AlertmanagerFile {
  route?: Route;
  receivers?: { name: string; webhook_configs?: { url: string }[] }[];
}

const shipped = async (file: string): Promise<string> => readFile(join(PROMETHEUS_DIR, file), 'utf8');

/**
 * rules.yml with the `for` of every rule of alert `alert` set to `duration`; the expressions are untouched.
 * Throws when the alert is missing or has no `for`, so a renamed rule cannot leave the test silently stale.
 */
export function shortenFor(rulesYaml: string, alert: string, duration: string): string {
  const file = parse(rulesYaml) as RuleFile;
  const rules = file.groups.flatMap((g) => g.rules).filter((r) => r.alert === alert);
  if (rules.length === 0 || rules.some((r) => r.for === undefined))
    throw new Error(`rules.yml has no alert ${alert} with a \`for\``);
  for (const rule of rules) rule.for = duration;
  return stringify(file);
}

export interface PrometheusSettings {
  /** `host:port` per scrape job of prometheus.yml; every job there must be given one. */
  targets: Record<string, string>;
  /** `host:port` of Alertmanager. */
  alertmanager: string;
  /** Path of the rules file to load. */
  rules: string;
  /** Scrape and evaluation interval, e.g. `1s`. */
  interval: string;
}

/** prometheus.yml with its targets, rules path and intervals replaced. */
export function prometheusConfig(prometheusYaml: string, settings: PrometheusSettings): string {
  const config = parse(prometheusYaml) as PrometheusFile;
  config.global = {
    ...config.global,
    scrape_interval: settings.interval,
    scrape_timeout: settings.interval,
    evaluation_interval: settings.interval,
  };
  config.rule_files = [settings.rules];
  for (const manager of config.alerting?.alertmanagers ?? [])
    manager.static_configs = [{ targets: [settings.alertmanager] }];
  for (const job of config.scrape_configs ?? []) {
    const target = settings.targets[job.job_name];
    if (target === undefined) throw new Error(`no test target for scrape job ${job.job_name}`);
    job.static_configs = [{ targets: [target] }];
  }
  return stringify(config);
}

/**
 * alertmanager.yml with every webhook sent to `webhook` (same path, so `/page` and `/ticket` stay apart) and
 * every group wait and interval set to `wait`.
 */
export function alertmanagerConfig(alertmanagerYaml: string, webhook: string, wait: string): string {
  const config = parse(alertmanagerYaml) as AlertmanagerFile;
  const origin = new URL(webhook);
  for (const receiver of config.receivers ?? []) {
    for (const hook of receiver.webhook_configs ?? []) {
      const url = new URL(hook.url);
      url.protocol = origin.protocol;
      url.host = origin.host;
      hook.url = url.href;
    }
  }
  const shorten = (route: Route): void => {
    if (route.group_wait !== undefined || route === config.route) route.group_wait = wait;
    if (route.group_interval !== undefined) route.group_interval = wait;
    route.routes?.forEach(shorten);
  };
  if (config.route !== undefined) shorten(config.route);
  return stringify(config);
}

/** The three shipped files, read once. */
export async function shippedConfigs(): Promise<{ rules: string; prometheus: string; alertmanager: string }> {
  const [rules, prometheus, alertmanager] = await Promise.all([
    shipped('rules.yml'),
    shipped('prometheus.yml'),
    shipped('alertmanager.yml'),
  ]);
  return { rules, prometheus, alertmanager };
}

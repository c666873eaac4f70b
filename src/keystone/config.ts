import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { authMethodSchema, type AuthMethod } from './auth-methods.js';
import type { EndpointInterface, ServiceType } from './catalog.js';

/** Everything needed to reach one cloud, resolved from clouds.yaml, `OS_*` or explicit options. */
export interface CloudConfig {
  /** The cloud's name in clouds.yaml, if it came from there. */
  name: string | undefined;
  /** Keystone v3 URL, ending in `/v3`. */
  authUrl: string;
  auth: AuthMethod;
  region: string | undefined;
  interface: EndpointInterface;
  /** Path of a PEM CA bundle. */
  cacert: string | undefined;
  insecure: boolean;
  endpointOverrides: Partial<Record<ServiceType, string>>;
  /** Where this config was read from, for error messages. */
  source: string;
}

const boolish = z.union([z.boolean(), z.enum(['true', 'false', 'True', 'False', '1', '0', 'yes', 'no'])]);
const toBool = (v: z.infer<typeof boolish> | undefined): boolean | undefined =>
  v === undefined ? undefined : typeof v === 'boolean' ? v : ['true', 'True', '1', 'yes'].includes(v);

/** One entry under `clouds:` — the subset of openstacksdk's format the library reads. */
const cloudEntrySchema = z.looseObject({
  auth_type: z.string().optional(),
  auth: z
    .looseObject({
      auth_url: z.string().optional(),
      username: z.string().optional(),
      user_id: z.string().optional(),
      password: z.string().optional(),
      project_name: z.string().optional(),
      project_id: z.string().optional(),
      tenant_name: z.string().optional(),
      tenant_id: z.string().optional(),
      user_domain_name: z.string().optional(),
      user_domain_id: z.string().optional(),
      project_domain_name: z.string().optional(),
      project_domain_id: z.string().optional(),
      domain_name: z.string().optional(),
      domain_id: z.string().optional(),
      application_credential_id: z.string().optional(),
      application_credential_name: z.string().optional(),
      application_credential_secret: z.string().optional(),
      token: z.string().optional(),
    })
    .optional(),
  region_name: z.string().optional(),
  interface: z.enum(['public', 'internal', 'admin']).optional(),
  identity_api_version: z.union([z.string(), z.number()]).optional(),
  cacert: z.string().optional(),
  verify: boolish.optional(),
  insecure: boolish.optional(),
  compute_endpoint_override: z.string().optional(),
  block_storage_endpoint_override: z.string().optional(),
  volume_endpoint_override: z.string().optional(),
  image_endpoint_override: z.string().optional(),
  identity_endpoint_override: z.string().optional(),
});
type CloudEntry = z.infer<typeof cloudEntrySchema>;

const cloudsFileSchema = z.looseObject({ clouds: z.record(z.string(), cloudEntrySchema) });

/** Where clouds.yaml and secure.yaml are looked for, in order (as openstacksdk does). */
export function configSearchPath(file: 'clouds.yaml' | 'secure.yaml', env: NodeJS.ProcessEnv = process.env): string[] {
  const explicit = file === 'clouds.yaml' ? env.OS_CLIENT_CONFIG_FILE : env.OS_CLIENT_SECURE_FILE;
  const home = env.HOME ?? homedir();
  return [
    ...(explicit ? [resolve(explicit)] : []),
    resolve(file),
    join(home, '.config', 'openstack', file),
    join('/etc', 'openstack', file),
  ];
}

function readYaml(path: string): unknown {
  try {
    return parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`, {
      source: path,
      cause: err,
    });
  }
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
        ? deepMerge(b as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

function formatIssues(err: z.ZodError, prefix: string): string {
  return err.issues.map((i) => `${[prefix, ...i.path].filter(Boolean).join('.')}: ${i.message}`).join('; ');
}

/**
 * Loads a named cloud from clouds.yaml, with secrets from secure.yaml merged over it.
 *
 * @throws {ConfigError} when no file is found, the cloud is missing, or a field is wrong — the
 * message names the field and the file.
 */
export function loadCloudFromFiles(name: string, env: NodeJS.ProcessEnv = process.env): CloudConfig {
  const cloudsPath = configSearchPath('clouds.yaml', env).find((p) => existsSync(p));
  if (!cloudsPath) {
    throw new ConfigError(
      `cloud "${name}" was asked for but no clouds.yaml was found (looked in: ${configSearchPath('clouds.yaml', env).join(', ')})`,
    );
  }
  const parsed = cloudsFileSchema.safeParse(readYaml(cloudsPath));
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error, ''), { source: cloudsPath });
  let entry: Record<string, unknown> | undefined = parsed.data.clouds[name];
  if (!entry) {
    const known = Object.keys(parsed.data.clouds);
    throw new ConfigError(`no cloud named "${name}" (known: ${known.join(', ') || 'none'})`, { source: cloudsPath });
  }
  let source = cloudsPath;
  const securePath = configSearchPath('secure.yaml', env).find((p) => existsSync(p));
  if (securePath) {
    const secure = cloudsFileSchema.partial().safeParse(readYaml(securePath));
    if (!secure.success) throw new ConfigError(formatIssues(secure.error, ''), { source: securePath });
    const over = secure.data.clouds?.[name];
    if (over) {
      entry = deepMerge(entry, over);
      source = `${cloudsPath} + ${securePath}`;
    }
  }
  const checked = cloudEntrySchema.safeParse(entry);
  if (!checked.success) throw new ConfigError(formatIssues(checked.error, `clouds.${name}`), { source });
  return fromCloudEntry(name, checked.data, source);
}

function fromCloudEntry(name: string | undefined, e: CloudEntry, source: string): CloudConfig {
  const a = e.auth ?? {};
  const where = name ? `clouds.${name}.auth` : 'auth';
  if (!a.auth_url) throw new ConfigError(`${where}.auth_url is required`, { source });
  if (e.identity_api_version !== undefined && String(e.identity_api_version) !== '3') {
    throw new ConfigError(`identity_api_version ${e.identity_api_version} is not supported; only 3`, { source });
  }
  const type = (e.auth_type ?? '').replace(/^v3/, '').replace(/^v2/, '');
  const scope = {
    projectName: a.project_name ?? a.tenant_name,
    projectId: a.project_id ?? a.tenant_id,
    projectDomainName: a.project_domain_name ?? a.domain_name,
    projectDomainId: a.project_domain_id ?? a.domain_id,
  };
  let candidate: Record<string, unknown>;
  if (type === 'applicationcredential' || (!type && a.application_credential_secret)) {
    candidate = {
      type: 'applicationCredential',
      id: a.application_credential_id,
      name: a.application_credential_name,
      secret: a.application_credential_secret,
      username: a.username,
      userId: a.user_id,
      userDomainName: a.user_domain_name,
      userDomainId: a.user_domain_id,
    };
  } else if (type === 'token' || (!type && a.token && !a.password)) {
    candidate = { type: 'token', token: a.token, ...scope };
  } else if (type === '' || type === 'password') {
    candidate = {
      type: 'password',
      username: a.username,
      userId: a.user_id,
      password: a.password,
      userDomainName: a.user_domain_name ?? (a.user_domain_id ? undefined : a.domain_name),
      userDomainId: a.user_domain_id ?? (a.user_domain_name ? undefined : a.domain_id),
      ...scope,
    };
  } else {
    throw new ConfigError(`auth_type "${e.auth_type}" is not supported (password, v3applicationcredential, token)`, {
      source,
    });
  }
  const auth = parseAuth(candidate, where, source);
  const insecure = toBool(e.insecure) ?? (toBool(e.verify) === false ? true : false);
  return {
    name,
    authUrl: normaliseAuthUrl(a.auth_url, source),
    auth,
    region: e.region_name,
    interface: e.interface ?? 'public',
    cacert: e.cacert,
    insecure,
    endpointOverrides: stripUndefined({
      compute: e.compute_endpoint_override,
      'block-storage': e.block_storage_endpoint_override ?? e.volume_endpoint_override,
      image: e.image_endpoint_override,
      identity: e.identity_endpoint_override,
    }),
    source,
  };
}

/** Maps our camelCase auth fields back to the names the user wrote, for messages. */
const USER_FIELD: Record<string, string> = {
  username: 'username',
  userId: 'user_id',
  password: 'password',
  userDomainName: 'user_domain_name',
  userDomainId: 'user_domain_id',
  projectName: 'project_name',
  id: 'application_credential_id',
  name: 'application_credential_name',
  secret: 'application_credential_secret',
  token: 'token',
};

function parseAuth(candidate: Record<string, unknown>, where: string, source: string): AuthMethod {
  const parsed = authMethodSchema.safeParse(stripUndefined(candidate));
  if (parsed.success) return parsed.data;
  // The union reports every branch; keep the issues of the branch the candidate chose.
  const issues = parsed.error.issues.flatMap((i) =>
    i.code === 'invalid_union' ? i.errors.flat() : [i],
  ) as z.core.$ZodIssue[];
  const relevant = issues.filter((i) => i.path[0] !== 'type' && i.code !== 'unrecognized_keys');
  const text = (relevant.length ? relevant : issues)
    .map((i) => {
      const field = String(i.path[0] ?? '');
      const missing = i.code === 'invalid_type' && i.message.includes('undefined');
      return `${where}.${USER_FIELD[field] ?? field}: ${missing ? 'is required' : i.message}`;
    })
    .filter((v, idx, arr) => arr.indexOf(v) === idx)
    .join('; ');
  throw new ConfigError(text, { source });
}

function stripUndefined<T extends Record<string, unknown>>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

/** Keystone v3 URL: `http://h:5000` and `http://h:5000/v3/` both become `http://h:5000/v3`. */
export function normaliseAuthUrl(url: string, source: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`auth_url "${url}" is not a URL`, { source });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ConfigError(`auth_url "${url}" must be http or https`, { source });
  }
  const path = u.pathname.replace(/\/+$/, '');
  if (/\/v2\.0$/.test(path)) throw new ConfigError(`auth_url "${url}" is Keystone v2.0; only v3 is supported`, { source });
  u.pathname = /\/v3$/.test(path) ? path : `${path}/v3`;
  return u.toString().replace(/\/+$/, '');
}

/**
 * Reads the `OS_*` variables of an openrc file.
 *
 * @throws {ConfigError} naming the variable that is missing or wrong.
 */
export function loadCloudFromEnv(env: NodeJS.ProcessEnv = process.env): CloudConfig {
  const source = 'environment (OS_* variables)';
  if (!env.OS_AUTH_URL) throw new ConfigError('OS_AUTH_URL is not set (and no OS_CLOUD was given)', { source });
  const entry = cloudEntrySchema.parse({
    auth_type: env.OS_AUTH_TYPE,
    auth: stripUndefined({
      auth_url: env.OS_AUTH_URL,
      username: env.OS_USERNAME,
      user_id: env.OS_USER_ID,
      password: env.OS_PASSWORD,
      project_name: env.OS_PROJECT_NAME ?? env.OS_TENANT_NAME,
      project_id: env.OS_PROJECT_ID ?? env.OS_TENANT_ID,
      user_domain_name: env.OS_USER_DOMAIN_NAME,
      user_domain_id: env.OS_USER_DOMAIN_ID,
      project_domain_name: env.OS_PROJECT_DOMAIN_NAME,
      project_domain_id: env.OS_PROJECT_DOMAIN_ID,
      domain_name: env.OS_DOMAIN_NAME,
      application_credential_id: env.OS_APPLICATION_CREDENTIAL_ID,
      application_credential_name: env.OS_APPLICATION_CREDENTIAL_NAME,
      application_credential_secret: env.OS_APPLICATION_CREDENTIAL_SECRET,
      token: env.OS_TOKEN,
    }),
    region_name: env.OS_REGION_NAME,
    cacert: env.OS_CACERT,
    insecure: env.OS_INSECURE,
    identity_api_version: env.OS_IDENTITY_API_VERSION,
  });
  if (env.OS_INTERFACE !== undefined) {
    const iface = env.OS_INTERFACE.replace(/URL$/, '');
    if (iface !== 'public' && iface !== 'internal' && iface !== 'admin') {
      throw new ConfigError(`OS_INTERFACE must be public, internal or admin, not "${env.OS_INTERFACE}"`, { source });
    }
    entry.interface = iface;
  }
  try {
    return fromCloudEntry(undefined, entry, source);
  } catch (err) {
    if (err instanceof ConfigError) {
      // Name the variables, not the clouds.yaml keys.
      throw new ConfigError(err.message.replace(/ \(from .*\)$/, '').replace(/auth\.([a-z_]+)/g, (_m, k: string) => `OS_${k.toUpperCase()}`), {
        source,
      });
    }
    throw err;
  }
}

/**
 * Resolves the cloud to use: a named cloud (`OS_CLOUD` when no name is given) from clouds.yaml, or
 * the `OS_*` variables.
 */
export function loadCloudConfig(name?: string, env: NodeJS.ProcessEnv = process.env): CloudConfig {
  const cloud = name ?? env.OS_CLOUD;
  return cloud ? loadCloudFromFiles(cloud, env) : loadCloudFromEnv(env);
}

import { readFileSync } from 'node:fs';
import { ConfigError } from './core/errors.js';
import { createGotTransport } from './core/got-transport.js';
import { silentLogger, type Logger } from './core/logger.js';
import {
  negotiateMicroversion,
  parseMicroversion,
  rangeFromVersionDocument,
  versionDocumentSchema,
  type Microversion,
  type VersionRange,
} from './core/microversion.js';
import { defaultRetryPolicy, type RetryPolicy } from './core/retry.js';
import { ServiceClient, type MicroversionService } from './core/service-client.js';
import type { Transport } from './core/transport.js';
import { CinderClient } from './cinder/client.js';
import { GlanceClient } from './glance/client.js';
import { NovaClient } from './nova/client.js';
import { authMethodSchema, type AuthMethod } from './keystone/auth-methods.js';
import { selectEndpoint, type EndpointInterface, type ServiceType } from './keystone/catalog.js';
import { loadCloudConfig, normaliseAuthUrl, type CloudConfig } from './keystone/config.js';
import { KeystoneSession } from './keystone/session.js';
import { USER_AGENT } from './version.js';

/** The microversion range this library is written and tested for. */
export const SUPPORTED_MICROVERSIONS: Record<MicroversionService, VersionRange> = {
  compute: { min: parseMicroversion('2.1'), max: parseMicroversion('2.93') },
  volume: { min: parseMicroversion('3.0'), max: parseMicroversion('3.70') },
};

export interface ConnectOptions {
  /** A cloud in clouds.yaml; defaults to `OS_CLOUD`, then the `OS_*` variables. */
  cloud?: string;
  /** Explicit credentials instead of clouds.yaml or the environment. */
  auth?: AuthMethod & { authUrl: string };
  region?: string;
  interface?: EndpointInterface;
  /** Use these URLs instead of the catalog's. */
  endpointOverrides?: Partial<Record<ServiceType, string>>;
  /** PEM text of a CA bundle (overrides the config's `cacert` path). */
  ca?: string;
  /** Skip TLS verification. Off by default; a warning is logged when on. */
  insecure?: boolean;
  /** Environment to read `OS_*`/`OS_CLOUD` from; defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  transport?: Transport;
  logger?: Logger;
  /** Per-request timeout, ms. Default 60,000. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  signal?: AbortSignal;
}

/** A connected cloud: the session and a typed client per service. */
export interface Cloud {
  /** The resolved configuration, without secrets. */
  readonly info: { name: string | undefined; authUrl: string; region: string | undefined; source: string };
  readonly session: KeystoneSession;
  readonly projectId: string | undefined;
  /** The endpoint chosen for each service. */
  readonly endpoints: Readonly<Record<Exclude<ServiceType, 'identity'>, string>>;
  /** Negotiated microversions. */
  readonly microversions: Readonly<Record<MicroversionService, Microversion>>;
  /** The raw per-service clients every typed client is built on. */
  readonly services: Readonly<{ compute: ServiceClient; volume: ServiceClient; image: ServiceClient }>;
  readonly nova: NovaClient;
  readonly cinder: CinderClient;
  readonly glance: GlanceClient;
}

/**
 * Authenticates with Keystone v3, picks each service's endpoint from the catalog and negotiates the
 * compute and volume microversions.
 *
 * @example
 * const cloud = await connect({ cloud: 'devstack' });
 * @throws {ConfigError} for a missing or invalid configuration; {@link UnauthorizedError} when Keystone refuses
 * the credentials; {@link EndpointNotFoundError} when the catalog lacks a service.
 */
export async function connect(options: ConnectOptions = {}): Promise<Cloud> {
  const config = resolveConfig(options);
  const logger = options.logger ?? silentLogger;
  const insecure = options.insecure ?? config.insecure;
  if (insecure) logger.warn({ authUrl: config.authUrl }, 'TLS certificate verification is OFF for this cloud');
  const ca = options.ca ?? (config.cacert ? readCa(config.cacert, config.source) : undefined);
  const transport = options.transport ?? createGotTransport({ ca, insecure });
  const base = {
    transport,
    logger,
    userAgent: USER_AGENT,
    timeoutMs: options.timeoutMs ?? 60_000,
    retry: { ...defaultRetryPolicy, ...options.retry },
  };
  const identity = new ServiceClient({ ...base, service: 'identity', endpoint: config.authUrl });
  const session = new KeystoneSession(identity, config.auth);
  const token = await session.tokenInfo(options.signal);

  const endpoint = (type: Exclude<ServiceType, 'identity'>): string =>
    config.endpointOverrides[type] ??
    selectEndpoint(token.catalog, { type, region: config.region, interface: config.interface });
  const endpoints = { compute: endpoint('compute'), 'block-storage': endpoint('block-storage'), image: endpoint('image') };

  const plain = (service: string, url: string): ServiceClient =>
    new ServiceClient({ ...base, auth: session, service, endpoint: url });
  const negotiate = async (service: MicroversionService, url: string, major: number): Promise<Microversion> => {
    const doc = await plain(service, versionUrl(url, token.projectId)).request({
      method: 'GET',
      path: '',
      expect: [200, 300],
      schema: versionDocumentSchema,
      signal: options.signal,
    });
    return negotiateMicroversion(service, SUPPORTED_MICROVERSIONS[service], rangeFromVersionDocument(doc.data, major));
  };
  const [computeMv, volumeMv] = await Promise.all([
    negotiate('compute', endpoints.compute, 2),
    negotiate('volume', endpoints['block-storage'], 3),
  ]);
  const versioned = (service: MicroversionService, url: string, version: Microversion): ServiceClient =>
    new ServiceClient({ ...base, auth: session, service, endpoint: url, microversion: { service, version } });

  const services = {
    compute: versioned('compute', endpoints.compute, computeMv),
    volume: versioned('volume', endpoints['block-storage'], volumeMv),
    image: plain('image', endpoints.image),
  };
  return {
    info: { name: config.name, authUrl: config.authUrl, region: config.region, source: config.source },
    session,
    projectId: token.projectId,
    endpoints,
    microversions: { compute: computeMv, volume: volumeMv },
    services,
    nova: new NovaClient(services.compute),
    cinder: new CinderClient(services.volume),
    glance: new GlanceClient(services.image),
  };
}

function resolveConfig(options: ConnectOptions): CloudConfig {
  let config: CloudConfig;
  if (options.auth) {
    const { authUrl, ...method } = options.auth;
    const parsed = authMethodSchema.safeParse(method);
    if (!parsed.success) {
      throw new ConfigError(
        parsed.error.issues.map((i) => `auth.${i.path.join('.')}: ${i.message}`).join('; '),
        { source: 'connect() options' },
      );
    }
    config = {
      name: undefined,
      authUrl: normaliseAuthUrl(authUrl, 'connect() options'),
      auth: parsed.data,
      region: undefined,
      interface: 'public',
      cacert: undefined,
      insecure: false,
      endpointOverrides: {},
      source: 'connect() options',
    };
  } else {
    config = loadCloudConfig(options.cloud, options.env ?? process.env);
  }
  return {
    ...config,
    region: options.region ?? config.region,
    interface: options.interface ?? config.interface,
    endpointOverrides: { ...config.endpointOverrides, ...options.endpointOverrides },
  };
}

function readCa(path: string, source: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cacert ${path} cannot be read`, { source, cause: err });
  }
}

/**
 * Where a service's version document lives: the endpoint without a trailing project id, with a
 * trailing slash (`http://h:8776/v3/<project>` → `http://h:8776/v3/`).
 */
export function versionUrl(endpoint: string, projectId: string | undefined): string {
  const u = new URL(endpoint);
  const parts = u.pathname.replace(/\/+$/, '').split('/');
  const last = parts[parts.length - 1] ?? '';
  if ((projectId && last === projectId) || /^[0-9a-f]{32}$/.test(last) || last.includes('%(')) parts.pop();
  u.pathname = `${parts.join('/')}/`;
  return u.toString();
}

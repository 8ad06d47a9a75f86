import type { ServiceConfig } from '../config/service-config.js';
import type { RigKinematics } from '../kinematics/rig.js';
import type { Logger } from '../log.js';
import type { SharedBuffers } from '../runtime/slots.js';
import { type RigControls, type Route, controlRoutes } from './api.js';
import { loadOrCreateToken } from './auth.js';
import { actuatorLimits } from '../kinematics/geometry.js';
import { LiveFeed } from './live.js';
import { WebServer } from './server.js';

/**
 * The web page as a part of the service: token, live feed, routes and server, started after
 * the control loop runs. The page is a window and a remote, not part of the safety chain: a
 * port that cannot be had or a token that cannot be stored is logged and the service runs on
 * without it (or, without a token, with a page that can only watch and stop).
 */
export interface WebPart {
  server: WebServer;
  live: LiveFeed;
  url: string;
  /** Where the generated token is (null when the config gives it). */
  tokenFile: string | null;
}

export async function startWeb(p: {
  config: ServiceConfig;
  buffers: SharedBuffers;
  rig: RigKinematics;
  log: Logger;
  controls: RigControls;
  /** Further routes (profiles, recordings). */
  routes: Route[];
}): Promise<WebPart | undefined> {
  const w = p.config.web;
  if (!w.enabled) return undefined;
  let token: string | undefined;
  try {
    const t = loadOrCreateToken(w.token, w.tokenFile);
    token = t.token;
    if (t.warning) p.log.warn({ event: 'web-token-readable', file: w.tokenFile }, `web token: ${t.warning}`);
    if (t.generated) p.log.info({ event: 'web-token-created', file: w.tokenFile }, `web token generated into ${w.tokenFile} (motion-rig status shows it)`);
  } catch (err) {
    p.log.error({ event: 'web-token-failed', file: w.tokenFile, err: (err as Error).message }, `no web token (${(err as Error).message}): the page can watch and stop the rig, nothing else`);
  }
  const live = new LiveFeed(p.buffers, p.rig, p.config.loop.rateHz, () => p.controls.status());
  const log = (event: string, fields: object = {}) => p.log.warn({ event, ...fields }, `web: ${event}`);
  const server = new WebServer({ listen: w.listen, routes: [...controlRoutes(p.controls, log), rigRoute(p.rig), ...p.routes], live, token, log: p.log, hosts: w.hosts });
  try {
    await server.start();
  } catch (err) {
    p.log.error({ event: 'web-listen-failed', listen: w.listen, err: (err as Error).message }, `web page not served (${w.listen}: ${(err as Error).message}); the rig runs on without it`);
    return undefined;
  }
  p.log.info({ event: 'web-ready', url: server.url }, `web page at ${server.url}`);
  return { server, live, url: server.url, tokenFile: w.token === undefined ? w.tokenFile : null };
}

/** GET /api/rig: what the 3D view and the actuator bars are built from (the rig file's geometry, each actuator's travel and margins). */
function rigRoute(rig: RigKinematics): Route {
  const g = rig.geometry;
  const body = {
    geometry: g,
    limits: Array.from({ length: rig.actuatorCount }, (_, i) => actuatorLimits(g, i)),
    units: Array.from({ length: rig.actuatorCount }, (_, i) => (i >= rig.legCount || g.legKind === 'crank' ? 'rad' : 'm')),
    neutral: Array.from(rig.neutral),
  };
  return { method: 'GET', path: '/api/rig', token: false, handle: () => ({ status: 200, body }) };
}

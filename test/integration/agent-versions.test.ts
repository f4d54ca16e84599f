/**
 * The agent compatibility window, seen from outside a real coordinator process: ListFactories says
 * each factory's agent version and whether it is within the window (and what the window is), and an
 * agent older than the window is named in a warning log line when it connects.
 */
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { AgentSupport } from '../../gen/ts/gigafactory/fleet/v1/factory_pb.js';
import { oldestSupportedAgentVersion } from '../../src/domain/agent-version.js';
import { VERSION } from '../../src/version.js';
import { spawnCoordinator } from '../support/processes.js';
import { RawFactory } from '../support/raw-factory.js';

const dataDir = mkdtempSync(join(tmpdir(), 'gigafactory-versions-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

it('ListFactories flags agents older than the window, and the coordinator logs a warning for them', async () => {
  const coordinator = await spawnCoordinator({ dataDir });
  const factories: RawFactory[] = [];
  try {
    const url = `http://${coordinator.grpcAddress}`;
    for (const [id, agentVersion] of [['current', VERSION], ['old', '0.0.9'], ['custom', 'my-build']] as const) {
      const f = new RawFactory(url);
      factories.push(f);
      f.hello(id, { agentVersion });
      await f.next('welcome');
    }
    const warning = await coordinator.waitFor((l) => l.msg === 'agent is older than the compatibility window: upgrade it');
    expect(warning).toMatchObject({ factoryId: 'old', agentVersion: '0.0.9', oldestSupported: oldestSupportedAgentVersion(VERSION) });
    expect(coordinator.lines.filter((l) => l.msg === warning.msg)).toHaveLength(1);

    const listed = await createClient(AdminService, createGrpcTransport({ baseUrl: url })).listFactories({});
    expect(listed.coordinatorVersion).toBe(VERSION);
    expect(listed.oldestSupportedAgentVersion).toBe(oldestSupportedAgentVersion(VERSION));
    expect(listed.factories.map((f) => [f.id, f.agentVersion, f.agentSupport])).toEqual([
      ['current', VERSION, AgentSupport.SUPPORTED],
      ['custom', 'my-build', AgentSupport.UNKNOWN],
      ['old', '0.0.9', AgentSupport.OUTDATED],
    ]);
  } finally {
    for (const f of factories) f.breakStream();
    await coordinator.kill('SIGKILL');
  }
});

/**
 * Secret env values: a viewer never sees the value of an env variable whose name ends in _TOKEN,
 * _SECRET, _KEY or _PASSWORD (GetJob, ListJobs, WatchJobs, a schedule's template, on both listeners: the web app reads
 * through the same RPCs); an operator does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { ScheduleService } from '../../gen/ts/gigafactory/fleet/v1/schedule_service_pb.js';
import { HIDDEN_ENV_VALUE, isSecretEnvName } from '../../src/domain/job-spec.js';
import { gatewayClient, grpcClient, startSecureServer, type SecureServer } from './helpers.js';

let server: SecureServer;
let jobId: string;
const ENV = { DEPLOY_TOKEN: 'tok-value', db_password: 'pw-value', API_KEY: 'key-value', SECRET: 's-value', KEYBOARD: 'plain', MONKEY_BUSINESS: 'plain-too' };
const HIDDEN = { ...ENV, DEPLOY_TOKEN: HIDDEN_ENV_VALUE, db_password: HIDDEN_ENV_VALUE, API_KEY: HIDDEN_ENV_VALUE, SECRET: HIDDEN_ENV_VALUE };

beforeAll(async () => {
  server = await startSecureServer();
  const { job } = await grpcClient(JobService, server, server.keys.operator).submitJob({ productId: 'secret-env', command: ['true'], env: ENV });
  jobId = job!.id;
});
afterAll(() => server.stop());

describe('secret-named env values', () => {
  it('are hidden from viewers in GetJob, ListJobs and WatchJobs, on both listeners', async () => {
    for (const client of [grpcClient(JobService, server, server.keys.viewer), gatewayClient(JobService, server, server.keys.viewer)]) {
      expect((await client.getJob({ jobId })).job!.env).toEqual(HIDDEN);
      expect((await client.listJobs({})).jobs.find((j) => j.id === jobId)!.env).toEqual(HIDDEN);
      for await (const res of client.watchJobs({ jobId })) {
        expect(res.event!.job!.env).toEqual(HIDDEN);
        break;
      }
    }
  });

  it('are shown to operators and admins', async () => {
    expect((await grpcClient(JobService, server, server.keys.operator).getJob({ jobId })).job!.env).toEqual(ENV);
    expect((await gatewayClient(JobService, server, server.keys.admin).getJob({ jobId })).job!.env).toEqual(ENV);
  });

  it("are hidden from viewers in a schedule's job template, shown to operators", async () => {
    const { schedule } = await grpcClient(ScheduleService, server, server.keys.operator).createSchedule({ cron: '0 3 * * *', template: { productId: 'secret-env', command: ['true'], env: ENV }, paused: true });
    expect(schedule!.template!.env).toEqual(ENV);
    const viewer = gatewayClient(ScheduleService, server, server.keys.viewer);
    expect((await viewer.getSchedule({ scheduleId: schedule!.scheduleId })).schedule!.template!.env).toEqual(HIDDEN);
    expect((await viewer.listSchedules({})).schedules.find((s) => s.scheduleId === schedule!.scheduleId)!.template!.env).toEqual(HIDDEN);
  });

  it('are named by the rule: ending in _TOKEN, _SECRET, _KEY or _PASSWORD, or one of those words, any case', () => {
    expect(['GITHUB_TOKEN', 'aws_secret', 'SSH_KEY', 'Password', 'token'].every(isSecretEnvName)).toBe(true);
    expect(['TOKENS', 'KEYBOARD', 'MY_KEYS', 'PATH', 'SECRETARY'].some(isSecretEnvName)).toBe(false);
  });
});

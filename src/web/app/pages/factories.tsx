/**
 * Factories: every factory connected to this coordinator with its state, labels, slots, running jobs
 * and agent version, read again when jobs change (a lease taken or given back moves the slots) and
 * every 5 s (a factory can come or go without any job changing; a factory watch stream would replace
 * this). Operators drain a factory; admins revoke one and create enrollment tokens for new ones.
 * Buttons a key's role may not use are disabled with a tooltip naming the role; the coordinator
 * still decides, and a refusal is a sentence.
 */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { AgentSupport, FactoryState, type Factory } from '../../../../gen/ts/gigafactory/fleet/v1/factory_pb.js';
import { ConfirmAction } from '../components/confirm.js';
import { EnrollmentForm } from '../components/enrollment-form.js';
import { GuardedButton } from '../components/guarded.js';
import { Chips, Empty, ErrorBanner, Meter, PageHeader, Panel, SuccessNotice, useNow, When } from '../components/ui.js';
import { useJobEvents } from '../events.js';
import { FACTORY_STATES, ms, plural } from '../format.js';
import { useInterval, useLoad } from '../hooks.js';
import { adminService } from '../rpc.js';
import { jobPath, Link } from '../router.js';

export function FactoriesPage(): JSX.Element {
  const now = useNow(5_000);
  const list = useLoad((signal) => adminService.listFactories({}, { signal }), [], 'list the factories');
  useJobEvents(() => list.reloadSoon(), () => list.reload());
  useInterval(() => list.reloadSoon(), 5_000);
  const [enrolling, setEnrolling] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const done = (message: string): void => {
    setNotice(message);
    list.reload();
  };
  const factories = list.data?.factories ?? [];
  const slots = factories.reduce((n, f) => n + f.slots, 0);
  const free = factories.reduce((n, f) => n + f.freeSlots, 0);
  const outdated = factories.filter((f) => f.agentSupport === AgentSupport.OUTDATED);

  return (
    <div class="page">
      <PageHeader
        title="Factories"
        subtitle={list.data ? `${plural(factories.length, 'factory', 'factories')} connected · ${slots - free} of ${plural(slots, 'slot')} in use` : 'The agent runners connected to this coordinator.'}
        actions={
          !enrolling && (
            <GuardedButton rpc="AdminService/CreateEnrollmentToken" class="button button-primary" onClick={() => setEnrolling(true)}>
              Create enrollment token
            </GuardedButton>
          )
        }
      />
      {enrolling && <EnrollmentForm onClose={() => setEnrolling(false)} />}
      <SuccessNotice message={notice} onDismiss={() => setNotice(null)} />
      <ErrorBanner message={list.error} onRetry={list.reload} />
      {outdated.length > 0 && (
        <div class="banner banner-warn" role="alert">
          {plural(outdated.length, 'agent is', 'agents are')} older than this coordinator ({list.data?.coordinatorVersion}) supports: {outdated.map((f) => f.id).join(', ')}. Upgrade to{' '}
          {list.data?.oldestSupportedAgentVersion} or newer (docs/agent.md).
        </div>
      )}
      <Panel>
        {list.data && !factories.length ? (
          <Empty title="No factory is connected">
            Start one on any machine that reaches this coordinator's gRPC port: <code>gigafactory --coordinator HOST:7070 agent --id NAME --label KEY=VALUE</code>
          </Empty>
        ) : (
          <div class="table-wrap table-wrap-menus">
            <table class="table factories-table">
              <thead>
                <tr>
                  <th>Factory</th>
                  <th>State</th>
                  <th>Labels</th>
                  <th>Slots</th>
                  <th>Running</th>
                  <th>Agent</th>
                  <th>Connected</th>
                  <th>Last seen</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {factories.map((f) => {
                  const state = FACTORY_STATES[f.state];
                  const used = f.slots - f.freeSlots;
                  return (
                    <tr key={f.id} data-factory={f.id}>
                      <td class="strong mono nowrap">{f.id}</td>
                      <td>
                        <span class={`pill pill-${state.tone}`}>
                          <span class={`state-dot state-${state.tone}`} />
                          {state.label}
                        </span>
                      </td>
                      <td>
                        <Chips
                          items={Object.entries(f.labels)
                            .sort(([a], [b]) => a.localeCompare(b))
                            .map(([k, v]) => `${k}=${v}`)}
                          empty="none"
                        />
                      </td>
                      <td>
                        <div class="slots-cell">
                          <Meter used={used} total={f.slots} label={`${f.id} slots in use`} />
                          <span class="small nowrap">
                            {used} of {f.slots}
                          </span>
                        </div>
                      </td>
                      <td>
                        {f.jobIds.length ? (
                          <ul class="plain-list">
                            {f.jobIds.map((id) => (
                              <li key={id}>
                                <Link href={jobPath(id)} class="mono small">{id}</Link>
                              </li>
                            ))}
                          </ul>
                        ) : (
                          <span class="muted">idle</span>
                        )}
                      </td>
                      <td class="small">
                        <AgentVersion factory={f} oldest={list.data?.oldestSupportedAgentVersion ?? ''} />
                      </td>
                      <td class="nowrap">
                        <When at={ms(f.connectTime)} now={now} />
                      </td>
                      <td class="nowrap">
                        <When at={ms(f.lastSeenTime)} now={now} />
                      </td>
                      <td>
                        <FactoryActions factory={f} onDone={done} />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
    </div>
  );
}

/** The agent's version, flagged when it is older than the coordinator's compatibility window. */
function AgentVersion({ factory: f, oldest }: { factory: Factory; oldest: string }): JSX.Element {
  if (!f.agentVersion) return <span class="muted">—</span>;
  return (
    <span class="nowrap">
      {f.agentVersion}{' '}
      {f.agentSupport === AgentSupport.OUTDATED && (
        <span class="pill pill-outdated" data-outdated title={`Older than this coordinator supports (${oldest} or newer): upgrade the agent.`}>
          outdated
        </span>
      )}
    </span>
  );
}

function FactoryActions({ factory: f, onDone }: { factory: Factory; onDone: (message: string) => void }): JSX.Element {
  return (
    <div class="row-actions">
      <ConfirmAction
        label="Drain"
        rpc="AdminService/DrainFactory"
        title={`Drain ${f.id}`}
        description="It takes no new jobs, finishes the ones it runs, then disconnects."
        reasonPlaceholder="Reason (sent to the factory)"
        doing={`drain ${f.id}`}
        small
        disabled={f.state !== FactoryState.CONNECTED}
        busyLabel="Draining"
        onConfirm={async (reason) => {
          await adminService.drainFactory({ factoryId: f.id, reason });
          onDone(
            f.jobIds.length
              ? `${f.id} is draining: it takes no new jobs and disconnects once its ${plural(f.jobIds.length, 'running job')} end.`
              : `${f.id} is draining: it runs nothing, so it disconnects now.`,
          );
        }}
      />
      <ConfirmAction
        label="Revoke"
        rpc="AdminService/RevokeFactory"
        title={`Revoke ${f.id}`}
        description="Its credential stops working at once and its stream is closed; its jobs go back to the queue when their leases expire. It must be enrolled again to return."
        reasonPlaceholder="Reason (recorded and sent to the factory)"
        doing={`revoke ${f.id}`}
        danger
        small
        onConfirm={async (reason) => {
          const res = await adminService.revokeFactory({ factoryId: f.id, reason });
          onDone(`${f.id} was revoked; ${plural(res.closedStreams, 'open stream was', 'open streams were')} closed.`);
        }}
      />
    </div>
  );
}

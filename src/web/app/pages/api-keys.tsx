/**
 * API keys (admin): every key with its role, who created it and when, and whether it was revoked
 * (AdminService.ListApiKeys); create one (the secret is shown once: the coordinator keeps only its
 * hash) and revoke one, which ends its open streams at once. The same RPCs as `gigafactory keys`.
 */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { ApiKeyRole } from '../../../../gen/ts/gigafactory/fleet/v1/credentials_pb.js';
import { ROLE_NAMES } from '../caller.js';
import { ConfirmAction } from '../components/confirm.js';
import { GuardedButton } from '../components/guarded.js';
import { Empty, ErrorBanner, FormActions, PageHeader, Panel, SecretOnce, SuccessNotice, useNow, When } from '../components/ui.js';
import { describeError } from '../errors.js';
import { ms } from '../format.js';
import { useLoad } from '../hooks.js';
import { adminService } from '../rpc.js';

const ROLES = [ApiKeyRole.VIEWER, ApiKeyRole.OPERATOR, ApiKeyRole.ADMIN] as const;

export function ApiKeysPage(): JSX.Element {
  const keys = useLoad((signal) => adminService.listApiKeys({}, { signal }), [], 'list the API keys');
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const now = useNow(10_000);
  const list = keys.data?.apiKeys ?? [];
  return (
    <div class="page">
      <PageHeader
        title="API keys"
        subtitle="Who may call the coordinator, and as what. A key is shown once, when it is created."
        actions={
          <GuardedButton rpc="AdminService/CreateApiKey" class={`button ${creating ? 'button-secondary' : 'button-primary'}`} onClick={() => setCreating(!creating)} aria-expanded={creating}>
            {creating ? 'Close form' : 'Create API key'}
          </GuardedButton>
        }
      />
      {creating && <CreateKeyForm onCreated={keys.reload} onClose={() => setCreating(false)} />}
      <SuccessNotice message={notice} onDismiss={() => setNotice(null)} />
      <Panel>
        <ErrorBanner message={keys.error} onRetry={keys.reload} />
        {keys.data && !list.length ? (
          <Empty title="No API keys yet">Create one above, or with gigafactory keys create.</Empty>
        ) : (
          <div class="table-wrap table-wrap-menus">
            <table class="table api-keys-table">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Role</th>
                  <th>Created</th>
                  <th>By</th>
                  <th>State</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {list.map((key) => (
                  <tr key={key.name} data-key={key.name} class={key.revokeTime ? 'row-muted' : ''}>
                    <td class="mono strong">{key.name}</td>
                    <td>
                      <span class="account-role" data-role={ROLE_NAMES[key.role]}>{ROLE_NAMES[key.role]}</span>
                    </td>
                    <td class="nowrap">
                      <When at={ms(key.createTime)} now={now} />
                    </td>
                    <td class="mono small">{key.createdBy}</td>
                    <td class="nowrap">
                      {key.revokeTime ? (
                        <span class="text-failed">
                          Revoked <When at={ms(key.revokeTime)} now={now} />
                        </span>
                      ) : (
                        <span class="text-succeeded">Active</span>
                      )}
                    </td>
                    <td class="actions-cell">
                      {!key.revokeTime && (
                        <ConfirmAction
                          label="Revoke"
                          rpc="AdminService/RevokeApiKey"
                          title={`Revoke ${key.name}`}
                          description="Calls with this key are refused from now on and its open streams end. A revoked key's name is never reused."
                          doing="revoke the key"
                          danger
                          small
                          onConfirm={async () => {
                            await adminService.revokeApiKey({ name: key.name });
                            setNotice(`${key.name} was revoked.`);
                            keys.reload();
                          }}
                        />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
    </div>
  );
}

function CreateKeyForm({ onCreated, onClose }: { onCreated: () => void; onClose: () => void }): JSX.Element {
  const [name, setName] = useState('');
  const [role, setRole] = useState<ApiKeyRole>(ApiKeyRole.OPERATOR);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [issued, setIssued] = useState<{ name: string; key: string } | null>(null);

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (!name.trim()) return setError('Name the key: the name is recorded on every event it causes.');
    setBusy(true);
    setError(null);
    try {
      const res = await adminService.createApiKey({ name: name.trim(), role });
      setIssued({ name: name.trim(), key: res.key });
      onCreated();
    } catch (err) {
      setError(describeError(err, 'create the API key'));
    } finally {
      setBusy(false);
    }
  };

  if (issued) {
    return (
      <Panel title={`API key ${issued.name}`} class="submit-panel">
        <div class="token-once">
          <SecretOnce what="key" value={issued.key} copyLabel="Copy key" dataAttr="api-key" />
          <div class="form-buttons">
            <button type="button" class="button button-primary" onClick={onClose}>
              Done
            </button>
          </div>
        </div>
      </Panel>
    );
  }

  return (
    <Panel title="Create an API key" class="submit-panel">
      <form class="submit-form" noValidate onSubmit={(e) => void submit(e)} aria-label="Create an API key">
        <label class="field field-span-2">
          <span class="field-label">Name</span>
          <input class="input mono" name="keyName" value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="ci-pipeline" autocomplete="off" spellcheck={false} />
          <span class="field-hint">Letters, digits, ".", "_", "-", "@"; recorded as the actor of what the key does.</span>
        </label>
        <label class="field">
          <span class="field-label">Role</span>
          <select class="input" name="role" value={String(role)} onChange={(e) => setRole(Number(e.currentTarget.value) as ApiKeyRole)}>
            {ROLES.map((r) => (
              <option key={r} value={String(r)}>
                {ROLE_NAMES[r]}
              </option>
            ))}
          </select>
        </label>
        <FormActions error={error} busy={busy} label="Create key" busyLabel="Creating…" onCancel={onClose} />
      </form>
    </Panel>
  );
}

/**
 * Create an enrollment token for a new factory (AdminService.CreateEnrollmentToken, admin keys): the
 * labels it may advertise, the products it may run, how long the token lasts. The token is shown
 * once, with the line per platform that installs the packaged agent and starts it as a service
 * enrolled with it (the same lines as `gigafactory enroll-command`); the coordinator keeps only its hash.
 */
import { durationFromMs, timestampMs } from '@bufbuild/protobuf/wkt';
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { agentInstallLines, agentPackageFile } from '../../../domain/agent-install.js';
import { VERSION } from '../../../version.js';
import { describeError } from '../errors.js';
import { absoluteTime } from '../format.js';
import { adminService } from '../rpc.js';
import { CopyButton, FormActions, Panel, SecretOnce } from './ui.js';

interface Issued {
  token: string;
  tokenId: string;
  expiresAt: number | null;
  factoryId: string;
}

/** "gpu=a100|h100 os arch": each key, with the values allowed (none listed: any value). */
function parseGrants(text: string): { key: string; values: string[] }[] {
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((item) => {
      const eq = item.indexOf('=');
      if (eq === 0) throw new Error(`The label grant "${item}" must be key or key=value|value.`);
      return eq < 0 ? { key: item, values: [] } : { key: item.slice(0, eq), values: item.slice(eq + 1).split('|').filter(Boolean) };
    });
}

export function EnrollmentForm({ onClose }: { onClose: () => void }): JSX.Element {
  const [factoryId, setFactoryId] = useState('');
  const [labels, setLabels] = useState('os arch');
  const [products, setProducts] = useState('');
  const [hours, setHours] = useState('1');
  const [description, setDescription] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [issued, setIssued] = useState<Issued | null>(null);
  const [packageSource, setPackageSource] = useState(`./${agentPackageFile(VERSION)}`);

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setError(null);
    let allowedLabels;
    const ttlHours = Number(hours);
    try {
      allowedLabels = parseGrants(labels);
      if (!Number.isFinite(ttlHours) || ttlHours <= 0 || ttlHours > 168) throw new Error('The token must be valid for more than 0 and at most 168 hours (7 days).');
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      return;
    }
    setBusy(true);
    try {
      const res = await adminService.createEnrollmentToken({
        factoryId: factoryId.trim(),
        allowedLabels,
        allowedProducts: products.split(/[\s,]+/).filter(Boolean),
        ttl: durationFromMs(Math.round(ttlHours * 3_600_000)),
        description: description.trim(),
      });
      setIssued({ token: res.token, tokenId: res.tokenId, expiresAt: res.expireTime ? timestampMs(res.expireTime) : null, factoryId: factoryId.trim() });
    } catch (err) {
      setError(describeError(err, 'create the enrollment token'));
    } finally {
      setBusy(false);
    }
  };

  if (issued) {
    const coordinator = `${location.hostname}:7070`;
    const lines = agentInstallLines({ coordinator, enrollToken: issued.token, packageSource: packageSource.trim() || agentPackageFile(VERSION), ...(issued.factoryId ? { factoryId: issued.factoryId } : {}) });
    const fromCheckout = `gigafactory --coordinator ${coordinator} agent --id ${issued.factoryId || 'NAME'} --enroll-token ${issued.token}`;
    return (
      <Panel title="Enrollment token" class="submit-panel">
        <div class="token-once">
          <SecretOnce what="token" value={issued.token} copyLabel="Copy token" dataAttr="token" />
          <div class="muted small">
            Token {issued.tokenId}
            {issued.expiresAt !== null ? ` · works once, until ${absoluteTime(issued.expiresAt)}` : ''}
          </div>
          <label class="field">
            <span class="field-label">Agent package: where the new machine installs it from</span>
            <input class="input mono" name="agentPackage" value={packageSource} onInput={(e) => setPackageSource(e.currentTarget.value)} autocomplete="off" spellcheck={false} />
            <span class="field-hint">The tarball of npm run build:agent, as a URL or a path on that machine. The lines use the coordinator's gRPC address as this page sees it.</span>
          </label>
          {[...lines.map((l) => ({ key: l.platform, where: `Install and start the agent: ${l.where}`, line: l.line })), { key: 'checkout', where: 'Or from a checkout of Gigafactory', line: fromCheckout }].map((l) => (
            <div class="field" key={l.key} data-install-line={l.key}>
              <span class="field-label">{l.where}</span>
              <div class="secret">
                <code class="secret-value">{l.line}</code>
                <CopyButton text={l.line} label="Copy command" />
              </div>
            </div>
          ))}
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
    <Panel title="Create an enrollment token" class="submit-panel">
      <form class="submit-form" noValidate onSubmit={(e) => void submit(e)} aria-label="Create an enrollment token">
        <label class="field">
          <span class="field-label">Factory id <span class="optional">optional</span></span>
          <input class="input mono" name="factoryId" value={factoryId} onInput={(e) => setFactoryId(e.currentTarget.value)} placeholder="any id" autocomplete="off" spellcheck={false} />
        </label>
        <label class="field field-span-2">
          <span class="field-label">Labels it may advertise</span>
          <input class="input mono" name="allowedLabels" value={labels} onInput={(e) => setLabels(e.currentTarget.value)} placeholder="os arch gpu=a100|h100" autocomplete="off" spellcheck={false} />
          <span class="field-hint">key (any value) or key=a|b; other labels are refused at hello.</span>
        </label>
        <label class="field">
          <span class="field-label">Valid for (hours)</span>
          <input class="input" name="ttlHours" type="number" min={0.1} max={168} step="any" value={hours} onInput={(e) => setHours(e.currentTarget.value)} />
        </label>
        <label class="field field-span-2">
          <span class="field-label">Products it may run <span class="optional">optional</span></span>
          <input class="input mono" name="allowedProducts" value={products} onInput={(e) => setProducts(e.currentTarget.value)} placeholder="every product" autocomplete="off" spellcheck={false} />
        </label>
        <label class="field field-span-2">
          <span class="field-label">Note <span class="optional">optional</span></span>
          <input class="input" name="description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} placeholder="where it runs, who asked for it" autocomplete="off" />
        </label>
        <FormActions error={error} busy={busy} label="Create token" busyLabel="Creating…" onCancel={onClose} />
      </form>
    </Panel>
  );
}

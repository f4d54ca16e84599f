/**
 * Submit a job: product, command (split like a shell would, but run without one), label
 * requirements in the CLI's syntax, priority and attempts, and whether its work waits for an
 * operator to ship or reject it (require_review). Each form carries an idempotency key, so
 * pressing Submit twice, or again after a network error, creates one job. "Run again" on a job's
 * page opens it filled in from that job (its environment's values are never sent to the browser,
 * so they are not copied).
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../errors.js';
import { commandLine, requirementText } from '../format.js';
import { parseRequirements, randomKey, splitCommand } from '../input.js';
import { jobService } from '../rpc.js';
import { jobPath, navigate } from '../router.js';
import { FormActions, Panel } from './ui.js';

export function SubmitForm({ defaultProduct, fromJobId, onCancel }: { defaultProduct: string; fromJobId: string; onCancel: () => void }): JSX.Element {
  const [product, setProduct] = useState(defaultProduct);
  const [title, setTitle] = useState('');
  const [command, setCommand] = useState('');
  const [labels, setLabels] = useState('');
  const [priority, setPriority] = useState('0');
  const [maxAttempts, setMaxAttempts] = useState('');
  const [requireReview, setRequireReview] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [idempotencyKey] = useState(randomKey);

  // Run again: the form starts as the job was submitted.
  useEffect(() => {
    if (!fromJobId) return;
    const abort = new AbortController();
    jobService.getJob({ jobId: fromJobId }, { signal: abort.signal }).then(
      ({ job }) => {
        if (!job) return;
        setProduct(job.productId);
        setTitle(job.title);
        setCommand(commandLine(job.command));
        setLabels(job.requiredLabels.map(requirementText).join(' '));
        setPriority(String(job.priority));
        setMaxAttempts(String(job.maxAttempts));
        setRequireReview(job.requireReview);
      },
      (err: unknown) => !abort.signal.aborted && setError(describeError(err, `read ${fromJobId} to run it again`)),
    );
    return () => abort.abort();
  }, [fromJobId]);

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setError(null);
    let argv: string[];
    let requiredLabels;
    try {
      if (!product.trim()) throw new Error('Name the product the job belongs to.');
      argv = splitCommand(command);
      if (!argv.length) throw new Error('Enter the command to run, for example: make test');
      requiredLabels = parseRequirements(labels);
      if (!/^-?\d+$/.test(priority.trim())) throw new Error('The priority must be a whole number (larger runs first).');
      if (maxAttempts.trim() && !/^\d+$/.test(maxAttempts.trim())) throw new Error('Max attempts must be a whole number, or empty for the default (3).');
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      return;
    }
    setBusy(true);
    try {
      const res = await jobService.submitJob({
        productId: product.trim(),
        title: title.trim(),
        command: argv,
        requiredLabels,
        priority: Number(priority),
        maxAttempts: maxAttempts.trim() ? Number(maxAttempts) : 0,
        requireReview,
        idempotencyKey,
      });
      if (res.job) navigate(jobPath(res.job.id));
    } catch (err) {
      setError(describeError(err, 'submit the job'));
      setBusy(false);
    }
  };

  return (
    <Panel title={fromJobId ? `Run ${fromJobId} again` : 'Submit a job'} class="submit-panel">
      <form class="submit-form" noValidate onSubmit={(e) => void submit(e)} aria-label="Submit a job">
        <label class="field">
          <span class="field-label">Product</span>
          <input class="input" name="product" value={product} onInput={(e) => setProduct(e.currentTarget.value)} placeholder="e.g. web-shop" autocomplete="off" />
        </label>
        <label class="field field-span-3">
          <span class="field-label">Title <span class="optional">optional</span></span>
          <input class="input" name="title" value={title} onInput={(e) => setTitle(e.currentTarget.value)} placeholder="defaults to the command line" autocomplete="off" />
        </label>
        <label class="field field-span-4">
          <span class="field-label">Command</span>
          <input class="input mono" name="command" value={command} onInput={(e) => setCommand(e.currentTarget.value)} placeholder={`make test   ·   bash -c 'echo "hello"'`} autocomplete="off" spellcheck={false} />
          <span class="field-hint">Run without a shell on the factory. Quote arguments that contain spaces.</span>
        </label>
        <label class="field field-span-2">
          <span class="field-label">Required labels <span class="optional">optional</span></span>
          <input class="input mono" name="labels" value={labels} onInput={(e) => setLabels(e.currentTarget.value)} placeholder="os=linux gpu=a100|h100 mem_gb>=32" autocomplete="off" spellcheck={false} />
          <span class="field-hint">key=value, key=a|b, key!=value, key&gt;=n, key&lt;=n, key or !key; separate with spaces.</span>
        </label>
        <label class="field">
          <span class="field-label">Priority</span>
          <input class="input" name="priority" type="number" step={1} value={priority} onInput={(e) => setPriority(e.currentTarget.value)} />
          <span class="field-hint">Larger runs first.</span>
        </label>
        <label class="field">
          <span class="field-label">Max attempts <span class="optional">optional</span></span>
          <input class="input" name="maxAttempts" type="number" min={1} step={1} value={maxAttempts} onInput={(e) => setMaxAttempts(e.currentTarget.value)} placeholder="3" />
        </label>
        <FormActions error={error} busy={busy} label="Submit job" busyLabel="Submitting…" onCancel={onCancel}>
          <label class="toggle" title="When its work succeeds it waits in Awaiting review until an operator ships or rejects it">
            <input type="checkbox" name="requireReview" checked={requireReview} onChange={(e) => setRequireReview(e.currentTarget.checked)} />
            Hold for review before it counts as done
          </label>
        </FormActions>
      </form>
    </Panel>
  );
}

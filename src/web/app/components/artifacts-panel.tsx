/**
 * A job's stored files (ListArtifacts), per attempt: name, size, digest, media type, a download, and
 * an inline preview of text (the first 64 KB) and images. The bytes come from the gateway's plain
 * GET /artifacts/<job>/<epoch>/<name>, fetched with the signed-in key (a bare link or <img src>
 * could not carry it) and handed to the browser as a blob. Text is shown as text, never as markup.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ArtifactKind, type Artifact } from '../../../../gen/ts/gigafactory/fleet/v1/artifact_pb.js';
import type { Job } from '../../../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { formatBytes } from '../format.js';
import { useLoad } from '../hooks.js';
import { jobService } from '../rpc.js';
import { session } from '../session.js';
import { ErrorBanner, Panel } from './ui.js';

/** How much of a text file the preview shows. */
export const TEXT_PREVIEW_BYTES = 64 * 1024;

/** The gateway's download URL of one file. */
export function artifactUrl(a: Artifact): string {
  const name = a.name.split('/').map(encodeURIComponent).join('/');
  return `/artifacts/${encodeURIComponent(a.jobId)}/${a.epoch}/${name}${a.kind === ArtifactKind.CHECKPOINT ? '?kind=checkpoint' : ''}`;
}

/** GET with the signed-in key; throws with the status and the coordinator's message. */
async function get(a: Artifact, range?: string): Promise<Response> {
  const headers: Record<string, string> = {};
  const key = session.apiKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  if (range) headers.Range = range;
  const res = await fetch(artifactUrl(a), { headers });
  if (!res.ok) throw new Error(`${res.status} ${res.statusText}: ${(await res.text()).slice(0, 200)}`);
  return res;
}

function previewKind(a: Artifact): 'text' | 'image' | null {
  const type = a.contentType.toLowerCase();
  if (type.startsWith('image/') && !type.startsWith('image/svg')) return 'image';
  if (type.startsWith('text/') || type.startsWith('application/json') || type.startsWith('application/xml')) return 'text';
  return null;
}

export function ArtifactsPanel({ job }: { job: Job }): JSX.Element | null {
  // Reloaded as the job moves on: an attempt's files arrive as it ends.
  const list = useLoad((signal) => jobService.listArtifacts({ jobId: job.id }, { signal }), [job.id, job.stage, job.epoch], 'load the artifacts');
  if (list.error) return <ErrorBanner message={list.error} onRetry={list.reload} />;
  const artifacts = list.data?.artifacts ?? [];
  if (artifacts.length === 0) return null;
  const epochs = [...new Set(artifacts.map((a) => a.epoch))].sort((a, b) => Number(b - a));
  return (
    <Panel title="Artifacts" class="span-wide" id="artifacts">
      {epochs.map((epoch) => (
        <div class="artifact-attempt" key={String(epoch)}>
          <h3 class="small muted">Attempt epoch {String(epoch)}</h3>
          <table class="table artifacts">
            <thead>
              <tr>
                <th>Name</th>
                <th>Kind</th>
                <th>Size</th>
                <th>SHA-256</th>
                <th>Type</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {artifacts
                .filter((a) => a.epoch === epoch)
                .map((a) => (
                  <ArtifactRow artifact={a} key={`${a.kind}/${a.name}`} />
                ))}
            </tbody>
          </table>
        </div>
      ))}
    </Panel>
  );
}

function ArtifactRow({ artifact: a }: { artifact: Artifact }): JSX.Element {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const kind = previewKind(a);
  const download = async (): Promise<void> => {
    setError(null);
    try {
      const blob = await (await get(a)).blob();
      const link = document.createElement('a');
      link.href = URL.createObjectURL(blob);
      link.download = a.name.split('/').at(-1)!;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
    } catch (err) {
      setError(`Could not download ${a.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  return (
    <>
      <tr data-artifact={a.name}>
        <td class="mono">{a.name}</td>
        <td>{a.kind === ArtifactKind.CHECKPOINT ? 'checkpoint' : 'artifact'}</td>
        <td>{formatBytes(a.sizeBytes)}</td>
        <td class="mono" title={a.sha256}>
          {a.sha256.slice(0, 12)}
        </td>
        <td class="small">{a.contentType}</td>
        <td>
          <button type="button" class="button button-small" onClick={() => void download()}>
            Download
          </button>
          {kind && (
            <button type="button" class="button button-small" aria-expanded={open} onClick={() => setOpen(!open)}>
              {open ? 'Hide' : 'Preview'}
            </button>
          )}
        </td>
      </tr>
      {(open || error) && (
        <tr>
          <td colSpan={6}>
            <ErrorBanner message={error} />
            {open && kind && <Preview artifact={a} kind={kind} />}
          </td>
        </tr>
      )}
    </>
  );
}

function Preview({ artifact: a, kind }: { artifact: Artifact; kind: 'text' | 'image' }): JSX.Element {
  const [state, setState] = useState<{ text?: string; image?: string; error?: string }>({});
  useEffect(() => {
    let url: string | null = null;
    let live = true;
    const load = async (): Promise<void> => {
      try {
        if (kind === 'text') {
          const text = await (await get(a, `bytes=0-${TEXT_PREVIEW_BYTES - 1}`)).text();
          if (live) setState({ text });
        } else {
          url = URL.createObjectURL(await (await get(a)).blob());
          if (live) setState({ image: url });
        }
      } catch (err) {
        if (live) setState({ error: err instanceof Error ? err.message : String(err) });
      }
    };
    void load();
    return () => {
      live = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [a.jobId, a.epoch, a.name]);
  if (state.error) return <ErrorBanner message={`Could not preview ${a.name}: ${state.error}`} />;
  if (state.image) return <img class="artifact-image" src={state.image} alt={a.name} />;
  if (state.text === undefined) return <span class="muted small">Loading…</span>;
  return (
    <div class="artifact-preview">
      <pre class="mono">{state.text}</pre>
      {Number(a.sizeBytes) > TEXT_PREVIEW_BYTES && <p class="muted small">The first {formatBytes(TEXT_PREVIEW_BYTES)} of {formatBytes(a.sizeBytes)}.</p>}
    </div>
  );
}

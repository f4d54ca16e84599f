/**
 * The workflow around a job (GetDag): its dependencies, dependents, parent and children drawn as a
 * layered graph (dag-layout.ts), each job coloured by its stage and linking to its page. Live: the
 * shared WatchJobs stream recolours a job the moment its stage changes, and a job joining the graph
 * (a new child or dependent) reloads it.
 */
import type { JSX } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { DagEdgeKind, type DagNode, type GetDagResponse } from '../../../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import type { JobEvent } from '../../../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { layoutDag, NODE_HEIGHT, NODE_WIDTH, type GraphEdge } from '../dag-layout.js';
import { useJobEvents } from '../events.js';
import { plural, STAGES } from '../format.js';
import { useLoad } from '../hooks.js';
import { jobService } from '../rpc.js';
import { jobPath, navigate } from '../router.js';
import { ErrorBanner, Panel } from './ui.js';

/** Characters of a title that fit a node at 12.5 px. */
const TITLE_CHARS = 27;

export function DagPanel({ jobId }: { jobId: string }): JSX.Element | null {
  const dag = useLoad((signal) => jobService.getDag({ jobId }, { signal }), [jobId], 'load the workflow graph');
  // Stage changes seen since the graph was read, by job id.
  const [live, setLive] = useState<Map<string, Pick<DagNode, 'stage' | 'reason'>>>(new Map());
  const ids = useMemo(() => new Set(dag.data?.nodes.map((n) => n.jobId) ?? []), [dag.data]);

  useJobEvents(
    (event) => {
      if (!dag.data) return;
      if (ids.has(event.jobId)) setLive((m) => new Map(m).set(event.jobId, { stage: event.toStage, reason: event.job?.reason ?? '' }));
      if (joinsGraph(event, ids)) dag.reloadSoon();
    },
    () => dag.reload(),
  );

  if (dag.error) return <ErrorBanner message={dag.error} onRetry={dag.reload} />;
  // A job on its own has no workflow to show.
  if (!dag.data || dag.data.nodes.length < 2) return null;
  return (
    <Panel
      title="Workflow"
      id="workflow"
      aside={
        <span class="muted small">
          {plural(dag.data.nodes.length, 'job')}
          {dag.data.truncated ? ' (the first 1,000)' : ''}
        </span>
      }
    >
      <DagGraph dag={dag.data} live={live} current={jobId} />
    </Panel>
  );
}

/** Does this event bring a job or link into the graph that it does not show yet? */
function joinsGraph(event: JobEvent, ids: ReadonlySet<string>): boolean {
  const job = event.job;
  if (!job) return false;
  const links = [job.parentId, ...job.dependsOn, ...job.dependents, ...job.children].filter(Boolean);
  if (!ids.has(job.id)) return links.some((id) => ids.has(id));
  return links.some((id) => !ids.has(id));
}

function flowOf(dag: GetDagResponse): GraphEdge[] {
  return dag.edges.map((e) =>
    e.kind === DagEdgeKind.CHILD
      ? { before: e.fromJobId, after: e.toJobId, kind: 'child' as const }
      : { before: e.toJobId, after: e.fromJobId, kind: 'depends_on' as const },
  );
}

export function DagGraph({ dag, live, current }: { dag: GetDagResponse; live: ReadonlyMap<string, Pick<DagNode, 'stage' | 'reason'>>; current: string }): JSX.Element {
  const layout = useMemo(() => layoutDag(dag.nodes.map((n) => n.jobId), flowOf(dag)), [dag]);
  const byId = new Map(dag.nodes.map((n) => [n.jobId, { ...n, ...live.get(n.jobId) }]));
  const pad = 6;
  const tones = [...new Set([...byId.values()].map((n) => n.stage))];
  return (
    <div class="dag">
      <div class="dag-scroll">
        <svg
          class="dag-svg"
          width={layout.width + 2 * pad}
          height={layout.height + 2 * pad}
          viewBox={`${-pad} ${-pad} ${layout.width + 2 * pad} ${layout.height + 2 * pad}`}
          role="img"
          aria-label="Workflow graph: dependencies left of the jobs that wait for them, parents left of their children"
        >
          <defs>
            <marker id="dag-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M0,0 L10,5 L0,10 z" class="dag-arrow" />
            </marker>
          </defs>
          {layout.edges.map((e) => (
            <path key={`${e.before}>${e.after}`} d={e.path} class={`dag-edge dag-edge-${e.kind}`} marker-end="url(#dag-arrow)" data-edge={`${e.before}>${e.after}`} />
          ))}
          {layout.nodes.map((p) => {
            const node = byId.get(p.id)!;
            const stage = STAGES[node.stage];
            const title = node.title || node.jobId;
            const shown = title.length > TITLE_CHARS ? `${title.slice(0, TITLE_CHARS - 1)}…` : title;
            const href = jobPath(node.jobId);
            return (
              <a
                key={p.id}
                href={href}
                class={`dag-node stage-${stage.tone}${p.id === current ? ' dag-node-current' : ''}`}
                data-job-id={p.id}
                data-stage={stage.tone}
                onClick={(event: MouseEvent) => {
                  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
                  event.preventDefault();
                  navigate(href);
                }}
              >
                <title>{`${title} — ${stage.label}${node.reason ? `: ${node.reason}` : ''} (${node.jobId})`}</title>
                <rect x={p.x} y={p.y} width={NODE_WIDTH} height={NODE_HEIGHT} rx={8} class="dag-box" />
                <rect x={p.x} y={p.y} width={5} height={NODE_HEIGHT} rx={2.5} class="dag-stripe" />
                <text x={p.x + 16} y={p.y + 23} class="dag-title">{shown}</text>
                <circle cx={p.x + 20} cy={p.y + 40} r={4} class="dag-dot" />
                <text x={p.x + 30} y={p.y + 44} class="dag-meta">
                  {stage.label} · {node.productId}
                </text>
              </a>
            );
          })}
        </svg>
      </div>
      <div class="legend dag-legend">
        {tones.map((s) => (
          <span key={s} class={`stage-${STAGES[s].tone}`}>
            <i class="dag-legend-swatch" />
            {STAGES[s].label}
          </span>
        ))}
        <span class="dag-legend-edge"><svg width="28" height="8" aria-hidden="true"><path d="M0,4 H28" class="dag-edge dag-edge-depends_on" /></svg>dependency → job waiting for it</span>
        <span class="dag-legend-edge"><svg width="28" height="8" aria-hidden="true"><path d="M0,4 H28" class="dag-edge dag-edge-child" /></svg>parent → child</span>
      </div>
    </div>
  );
}

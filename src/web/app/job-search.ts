/**
 * The coordinator's ListJobs search (src/domain/job-search.ts) for jobs that arrive through events,
 * so a job submitted while a search is shown joins the table only when the server would list it.
 * The same texts, the same ASCII-only case folding.
 */
import type { Job } from '../../../gen/ts/gigafactory/fleet/v1/job_pb.js';

function foldAscii(text: string): string {
  return text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

export function matchesSearch(job: Job, text: string): boolean {
  const needle = foldAscii(text.trim());
  if (!needle) return true;
  const labels = job.requiredLabels.flatMap((r) => [r.key, ...r.values.map((v) => `${r.key}=${v}`)]);
  return [job.id, job.title, ...job.command, ...labels, job.productId].some((t) => foldAscii(t).includes(needle));
}

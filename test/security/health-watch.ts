/**
 * What the attack suite measures about the coordinator: /healthz answer times from a process of
 * their own (health-probe.mjs), split into a quiet baseline and the attack, and how much of the
 * attack the coordinator's main thread spent on a CPU against waiting for one (Linux schedstat):
 * on a shared machine the wait, not the coordinator's work, is what slows its answers.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const PROBE = join(import.meta.dirname, 'health-probe.mjs');

export interface LatencySummary {
  count: number;
  failures: number;
  p50: number;
  p99: number;
  max: number;
}

export interface HealthWatch {
  /** Resolves once the probe has its first answer in (its own start-up is not timed). */
  ready: Promise<void>;
  /** Summary of the answers started from `from` (epoch ms) up to `to`. */
  between(from: number, to: number): LatencySummary;
  stop(): void;
}

export function watchHealth(httpUrl: string): HealthWatch {
  const child = spawn(process.execPath, [PROBE, `${httpUrl}/healthz`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const samples: { at: number; ms: number }[] = [];
  let first: () => void;
  const ready = new Promise<void>((resolve) => (first = resolve));
  createInterface({ input: child.stdout }).on('line', (line) => {
    const [at, ms] = line.split(' ').map(Number);
    samples.push({ at: at!, ms: ms! });
    first();
  });
  return {
    ready,
    between: (from, to) => summarize(samples.filter((s) => s.at >= from && s.at < to).map((s) => s.ms)),
    stop: () => void child.kill(),
  };
}

export function summarize(answers: number[]): LatencySummary {
  const times = answers.filter((ms) => ms >= 0).sort((a, b) => a - b);
  const at = (q: number): number => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? NaN;
  return { count: answers.length, failures: answers.length - times.length, p50: at(0.5), p99: at(0.99), max: times.at(-1) ?? NaN };
}

/** A thread's time on a CPU and waiting in the run queue, in ms (Linux; zeros elsewhere). */
export function schedTimes(pid: number): { cpuMs: number; waitMs: number } {
  try {
    const [cpuNs, waitNs] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
    return { cpuMs: cpuNs! / 1e6, waitMs: waitNs! / 1e6 };
  } catch {
    return { cpuMs: 0, waitMs: 0 };
  }
}

/** The resident memory of a process, in bytes (Linux). */
export function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) * 1024;
}

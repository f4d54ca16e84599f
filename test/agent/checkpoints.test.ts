/**
 * Checkpoint archives and the watcher, on real files: a packed dir unpacks to the same bytes (and
 * reads with the system's tar), entries that would escape the dir are refused, and the watcher
 * uploads only when the dir changed — once per change, nothing for an untouched or emptied dir,
 * and the job's last words on a stop.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listCheckpointEntries, packCheckpoint, unpackCheckpoint } from '../../agent/checkpoint-archive.js';
import { checkpointDirOf, checkpointName, CheckpointWatcher, type PackedCheckpoint } from '../../agent/checkpoints.js';
import { createLogger } from '../../src/logging.js';
import { tempWorkDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempWorkDir()));
afterEach(() => cleanup());

const log = createLogger({ level: 'silent' });

function writeTree(root: string, files: Record<string, string | Buffer>): void {
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), body);
  }
}

describe('checkpoint archives', () => {
  it('round-trips files, nested dirs, binary content and long names, readable by tar', async () => {
    const src = path.join(dir, 'src');
    const long = `${'d'.repeat(90)}/${'e'.repeat(90)}/file.bin`;
    const binary = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256));
    writeTree(src, { 'state.json': '{"step":42}', 'nested/a/b.txt': 'deep', [long]: binary, 'empty.txt': '' });
    const archive = path.join(dir, 'cp.tar');
    await packCheckpoint(src, await listCheckpointEntries(src), archive);
    expect(readFileSync(archive).length % 512).toBe(0);
    const listed = execFileSync('tar', ['-tf', archive], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(listed).toEqual(expect.arrayContaining(['state.json', 'nested/a/b.txt', long, 'empty.txt']));

    const out = path.join(dir, 'out');
    expect(await unpackCheckpoint(archive, out)).toBe(4);
    expect(readFileSync(path.join(out, 'state.json'), 'utf8')).toBe('{"step":42}');
    expect(readFileSync(path.join(out, 'nested/a/b.txt'), 'utf8')).toBe('deep');
    expect(readFileSync(path.join(out, long)).equals(binary)).toBe(true);
    expect(readFileSync(path.join(out, 'empty.txt'), 'utf8')).toBe('');
  });

  it('refuses an archive entry that would land outside the dir', async () => {
    const src = path.join(dir, 'evil');
    writeTree(src, { 'x/escape.txt': 'pwned' });
    const archive = path.join(dir, 'evil.tar');
    // Made by the system's tar, with a ".." path a hostile checkpoint could carry.
    execFileSync('tar', ['-cf', archive, '-C', path.join(src, 'x'), '--transform', 's,^,../,', 'escape.txt']);
    await expect(unpackCheckpoint(archive, path.join(dir, 'out'))).rejects.toThrow(/would land outside the checkpoint dir/);
  });

  it('refuses a truncated archive and a corrupt header', async () => {
    const src = path.join(dir, 'src');
    writeTree(src, { 'a.txt': 'a'.repeat(2_000) });
    const archive = path.join(dir, 'cp.tar');
    await packCheckpoint(src, await listCheckpointEntries(src), archive);
    const bytes = readFileSync(archive);
    writeFileSync(path.join(dir, 'short.tar'), bytes.subarray(0, 1_024));
    await expect(unpackCheckpoint(path.join(dir, 'short.tar'), path.join(dir, 'o1'))).rejects.toThrow(/ends inside "a.txt"/);
    const corrupt = Buffer.from(bytes);
    corrupt[10] = 0x41;
    writeFileSync(path.join(dir, 'corrupt.tar'), corrupt);
    await expect(unpackCheckpoint(path.join(dir, 'corrupt.tar'), path.join(dir, 'o2'))).rejects.toThrow(/checksum mismatch/);
  });
});

describe('CheckpointWatcher', () => {
  let clock = 1_700_000_000_000;
  const uploads: { name: string; sha256: string; files: Record<string, string> }[] = [];
  let failNext = false;
  beforeEach(() => void (uploads.length = 0));

  /** The coordinator's side of an upload, as far as the watcher can tell: the archive's content. */
  async function upload(cp: PackedCheckpoint): Promise<void> {
    if (failNext) {
      failNext = false;
      throw new Error('UNAVAILABLE: coordinator unreachable');
    }
    const out = path.join(dir, `unpacked-${uploads.length}`);
    await unpackCheckpoint(cp.file, out);
    const files: Record<string, string> = {};
    for (const e of await listCheckpointEntries(out)) if (e.type === 'file') files[e.name] = readFileSync(path.join(out, e.name), 'utf8');
    uploads.push({ name: cp.name, sha256: cp.sha256, files });
  }

  function start(): { w: CheckpointWatcher; cp: string } {
    const cp = checkpointDirOf(dir);
    mkdirSync(cp, { recursive: true });
    return { w: new CheckpointWatcher({ workspace: dir, upload, log, now: () => clock }), cp };
  }

  it('uploads a changed dir once per change, named in upload order; nothing while it is empty or unchanged', async () => {
    const { w, cp } = start();
    await w.tick();
    expect(uploads).toHaveLength(0);
    writeFileSync(path.join(cp, 'count'), '1');
    await w.tick();
    await w.tick();
    clock += 1_000;
    writeFileSync(path.join(cp, 'count'), '22');
    await w.tick();
    expect(uploads.map((u) => u.files)).toEqual([{ count: '1' }, { count: '22' }]);
    expect(uploads.map((u) => u.name)).toEqual([checkpointName(clock - 1_000), checkpointName(clock)]);
    expect(uploads[0]!.name < uploads[1]!.name).toBe(true);
  });

  it('does not upload the same content again when only the mtime changed', async () => {
    const { w, cp } = start();
    writeFileSync(path.join(cp, 'state'), 'same');
    await w.tick();
    const later = new Date(Date.now() + 60_000);
    utimesSync(path.join(cp, 'state'), later, later);
    await w.tick();
    expect(uploads).toHaveLength(1);
  });

  it('retries a failed upload at the next tick', async () => {
    const { w, cp } = start();
    writeFileSync(path.join(cp, 'state'), 'v1');
    failNext = true;
    await w.tick();
    expect(uploads).toHaveLength(0);
    await w.tick();
    expect(uploads.map((u) => u.files)).toEqual([{ state: 'v1' }]);
  });

  it('uploads what the job wrote in its grace period on final(), then takes no more ticks', async () => {
    const { w, cp } = start();
    writeFileSync(path.join(cp, 'state'), 'v1');
    await w.tick();
    writeFileSync(path.join(cp, 'state'), 'last words');
    await w.final();
    writeFileSync(path.join(cp, 'state'), 'too late');
    await w.tick();
    expect(uploads.map((u) => u.files.state)).toEqual(['v1', 'last words']);
  });

  it('does not upload a restored checkpoint again until it changes', async () => {
    const { w, cp } = start();
    writeFileSync(path.join(cp, 'state'), 'restored');
    await w.markRestored('f'.repeat(64));
    await w.tick();
    expect(uploads).toHaveLength(0);
    writeFileSync(path.join(cp, 'state'), 'progressed');
    await w.tick();
    expect(uploads.map((u) => u.files.state)).toEqual(['progressed']);
  });
});

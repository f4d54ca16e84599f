/** The workflow graph's layout (src/web/app/dag-layout.ts), run in Node. */
import { describe, expect, it } from 'vitest';
import { layoutDag, NODE_HEIGHT, NODE_WIDTH, type GraphEdge } from '../../src/web/app/dag-layout.js';

const dep = (before: string, after: string): GraphEdge => ({ before, after, kind: 'depends_on' });
const child = (before: string, after: string): GraphEdge => ({ before, after, kind: 'child' });

function columnsOf(ids: string[], edges: GraphEdge[]): Record<string, number> {
  return Object.fromEntries(layoutDag(ids, edges).nodes.map((n) => [n.id, n.column]));
}

describe('layoutDag', () => {
  it('puts each job one column right of the latest job it follows (longest path)', () => {
    // build → test → deploy, and build → deploy directly: deploy still goes after test.
    const cols = columnsOf(['deploy', 'test', 'build', 'lint'], [dep('build', 'test'), dep('test', 'deploy'), dep('build', 'deploy')]);
    expect(cols).toEqual({ build: 0, test: 1, deploy: 2, lint: 0 });
  });

  it('places a parent left of its children and children left of what waits for them', () => {
    const cols = columnsOf(['parent', 'a', 'b', 'merge'], [child('parent', 'a'), child('parent', 'b'), dep('a', 'merge'), dep('b', 'merge')]);
    expect(cols).toEqual({ parent: 0, a: 1, b: 1, merge: 2 });
  });

  it('orders rows by their neighbours so edges do not cross', () => {
    // x1 feeds y2 and x2 feeds y1: the second column is reordered to follow the first.
    const layout = layoutDag(['x1', 'x2', 'y2', 'y1'], [dep('x1', 'y1'), dep('x2', 'y2')]);
    const row = Object.fromEntries(layout.nodes.map((n) => [n.id, n.row]));
    expect(row.x1! < row.x2!).toBe(true);
    expect(row.y1! < row.y2!).toBe(true);
  });

  it('sizes the drawing to its columns and rows and centres short columns', () => {
    const layout = layoutDag(['p', 'c1', 'c2', 'c3'], [child('p', 'c1'), child('p', 'c2'), child('p', 'c3')]);
    expect(layout.width).toBeGreaterThan(2 * NODE_WIDTH);
    expect(layout.height).toBeGreaterThanOrEqual(3 * NODE_HEIGHT);
    const p = layout.nodes.find((n) => n.id === 'p')!;
    const c2 = layout.nodes.find((n) => n.id === 'c2')!;
    expect(p.y).toBe(c2.y); // the parent sits level with the middle child
    // Edges run from the right side of the earlier job to the left side of the later one.
    const edge = layout.edges.find((e) => e.after === 'c1')!;
    expect(edge.path.startsWith(`M${p.x + NODE_WIDTH},${p.y + NODE_HEIGHT / 2} `)).toBe(true);
  });

  it('runs edges that skip a column in a lane: parent edges above the graph, dependency edges below', () => {
    // parent → a → b, where the child edge parent → b skips a's column.
    const layout = layoutDag(['parent', 'a', 'b'], [child('parent', 'a'), child('parent', 'b'), dep('a', 'b')]);
    const top = Math.min(...layout.nodes.map((n) => n.y));
    expect(top).toBeGreaterThan(0); // room for the lane above
    const skipping = layout.edges.find((e) => e.before === 'parent' && e.after === 'b')!;
    expect(skipping.path).toMatch(/ L[\d.]+,13 /); // along the lane above the nodes
    // a → c → d, where a → d skips c's column.
    const deps = layoutDag(['a', 'c', 'd'], [dep('a', 'c'), dep('c', 'd'), dep('a', 'd')]);
    const lane = deps.edges.find((e) => e.before === 'a' && e.after === 'd')!;
    expect(lane.path).toContain(` L`);
    expect(lane.path).toMatch(new RegExp(` L[\\d.]+,${deps.height - 13} `)); // and below them
    expect(Math.min(...deps.nodes.map((n) => n.y))).toBe(0);
  });

  it('ignores edges to jobs it was not given and self loops, and still places jobs on a cycle', () => {
    const layout = layoutDag(['a', 'b', 'c'], [dep('a', 'b'), dep('b', 'a'), dep('c', 'c'), dep('c', 'missing')]);
    expect(layout.edges.map((e) => `${e.before}>${e.after}`)).toEqual(['a>b', 'b>a']);
    expect(layout.nodes.map((n) => n.id)).toEqual(['a', 'b', 'c']);
    expect(layout.nodes.every((n) => Number.isFinite(n.x) && Number.isFinite(n.y))).toBe(true);
  });

  it('draws a single job on its own', () => {
    const layout = layoutDag(['only'], []);
    expect(layout.nodes).toEqual([{ id: 'only', column: 0, row: 0, x: 0, y: 0 }]);
    expect([layout.width, layout.height]).toEqual([NODE_WIDTH, NODE_HEIGHT]);
  });
});

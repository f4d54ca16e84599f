/**
 * A layered drawing of a job graph (GetDag): work flows left to right, so a dependency sits left of
 * the jobs that wait for it and a parent left of its children. Columns come from the longest path
 * from a job nothing precedes (Kahn's order), rows are ordered by the mean row of each job's
 * neighbours in the previous column (a few barycentre sweeps, which removes most crossings), and
 * edges between neighbouring columns are cubic curves between the node boxes. An edge that skips a
 * column would pass behind the jobs in between, so it runs in a lane instead: parent → child edges
 * above the graph, dependency edges below it. Pure: positions in SVG user units, no DOM.
 */

export type FlowKind = 'depends_on' | 'child';

export interface GraphEdge {
  /** Runs (or is the parent) first. */
  before: string;
  after: string;
  kind: FlowKind;
}

export interface PlacedNode {
  id: string;
  column: number;
  row: number;
  x: number;
  y: number;
}

export interface PlacedEdge extends GraphEdge {
  /** SVG path data from the right side of `before` to the left side of `after`. */
  path: string;
}

export interface Layout {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  width: number;
  height: number;
}

export const NODE_WIDTH = 210;
export const NODE_HEIGHT = 58;
const COLUMN_GAP = 64;
const ROW_GAP = 18;
const SWEEPS = 4;
/** Room above or below the graph for edges that skip columns. */
const LANE = 26;

export function layoutDag(ids: readonly string[], edges: readonly GraphEdge[]): Layout {
  const known = new Set(ids);
  const flow = edges.filter((e) => known.has(e.before) && known.has(e.after) && e.before !== e.after);
  const column = assignColumns(ids, flow);
  const columns: string[][] = [];
  for (const id of ids) (columns[column.get(id)!] ??= []).push(id);
  orderRows(columns, flow);

  const skips = (e: GraphEdge): boolean => Math.abs(column.get(e.after)! - column.get(e.before)!) > 1;
  const top = flow.some((e) => skips(e) && e.kind === 'child') ? LANE : 0;
  const bottom = flow.some((e) => skips(e) && e.kind === 'depends_on') ? LANE : 0;
  const tallest = Math.max(1, ...columns.map((c) => c.length));
  const nodesHeight = tallest * NODE_HEIGHT + (tallest - 1) * ROW_GAP;
  const placed = new Map<string, PlacedNode>();
  columns.forEach((members, c) => {
    // Shorter columns are centred against the tallest one.
    const offset = top + (nodesHeight - (members.length * NODE_HEIGHT + (members.length - 1) * ROW_GAP)) / 2;
    members.forEach((id, row) => placed.set(id, { id, column: c, row, x: c * (NODE_WIDTH + COLUMN_GAP), y: offset + row * (NODE_HEIGHT + ROW_GAP) }));
  });
  const height = top + nodesHeight + bottom;
  return {
    nodes: ids.map((id) => placed.get(id)!),
    edges: flow.map((e) => {
      const from = placed.get(e.before)!;
      const to = placed.get(e.after)!;
      return { ...e, path: skips(e) ? laneCurve(from, to, e.kind === 'child' ? LANE / 2 : height - LANE / 2) : curve(from, to) };
    }),
    width: columns.length * NODE_WIDTH + Math.max(0, columns.length - 1) * COLUMN_GAP,
    height,
  };
}

/** Longest path from a source; jobs on a cycle (which the coordinator refuses) go one column right of what they follow. */
function assignColumns(ids: readonly string[], flow: readonly GraphEdge[]): Map<string, number> {
  const incoming = new Map<string, number>(ids.map((id) => [id, 0]));
  const next = new Map<string, string[]>();
  for (const e of flow) {
    incoming.set(e.after, incoming.get(e.after)! + 1);
    (next.get(e.before) ?? next.set(e.before, []).get(e.before)!).push(e.after);
  }
  const column = new Map<string, number>();
  const ready = ids.filter((id) => incoming.get(id) === 0);
  for (const id of ready) column.set(id, 0);
  for (let i = 0; i < ready.length; i++) {
    const id = ready[i]!;
    for (const after of next.get(id) ?? []) {
      column.set(after, Math.max(column.get(after) ?? 0, column.get(id)! + 1));
      const left = incoming.get(after)! - 1;
      incoming.set(after, left);
      if (left === 0) ready.push(after);
    }
  }
  const deepest = Math.max(-1, ...column.values());
  for (const id of ids) if (!column.has(id)) column.set(id, deepest + 1);
  return column;
}

function orderRows(columns: string[][], flow: readonly GraphEdge[]): void {
  const before = new Map<string, string[]>();
  const after = new Map<string, string[]>();
  for (const e of flow) {
    (before.get(e.after) ?? before.set(e.after, []).get(e.after)!).push(e.before);
    (after.get(e.before) ?? after.set(e.before, []).get(e.before)!).push(e.after);
  }
  const rowOf = new Map<string, number>();
  const index = (): void => columns.forEach((members) => members.forEach((id, row) => rowOf.set(id, row)));
  index();
  const sortBy = (members: string[], neighbours: Map<string, string[]>): void => {
    const key = new Map(members.map((id, row) => {
      const rows = (neighbours.get(id) ?? []).map((n) => rowOf.get(n)!);
      return [id, rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : row] as const;
    }));
    members.sort((a, b) => key.get(a)! - key.get(b)!); // stable: ties keep their order
  };
  for (let sweep = 0; sweep < SWEEPS; sweep++) {
    if (sweep % 2 === 0) for (let c = 1; c < columns.length; c++) (sortBy(columns[c]!, before), index());
    else for (let c = columns.length - 2; c >= 0; c--) (sortBy(columns[c]!, after), index());
  }
}

/** Out of the right side of `from`, along the lane at `laneY`, into the left side of `to`. */
function laneCurve(from: PlacedNode, to: PlacedNode, laneY: number): string {
  const x1 = from.x + NODE_WIDTH;
  const y1 = from.y + NODE_HEIGHT / 2;
  const x2 = to.x;
  const y2 = to.y + NODE_HEIGHT / 2;
  const turn = COLUMN_GAP / 2;
  return `M${x1},${y1} C${x1 + turn},${y1} ${x1 + turn / 2},${laneY} ${x1 + turn},${laneY} L${x2 - turn},${laneY} C${x2 - turn / 2},${laneY} ${x2 - turn},${y2} ${x2},${y2}`;
}

function curve(from: PlacedNode, to: PlacedNode): string {
  const x1 = from.x + NODE_WIDTH;
  const y1 = from.y + NODE_HEIGHT / 2;
  const x2 = to.x;
  const y2 = to.y + NODE_HEIGHT / 2;
  const bend = Math.max(24, (x2 - x1) / 2);
  return `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`;
}

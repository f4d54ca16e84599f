/**
 * Who may do what: operator roles, the scope an enrolled factory works in, and the checks on both.
 * Pure rules; the tokens themselves (random bytes, hashes) live in coordinator/secrets.ts and the
 * role × RPC table in server/access.ts.
 */
import { DomainError, invalidArgument } from './errors.js';
import { validateProductId } from './job-spec.js';

/** Operator roles, weakest first; each includes what the ones before it may do. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** A label an enrolled factory may advertise; no values means any value. */
export interface LabelGrant {
  key: string;
  values: string[];
}

/** What an enrolled factory may do: be itself, advertise granted labels, serve allowed products. */
export interface FactoryScope {
  factoryId: string;
  allowedLabels: LabelGrant[];
  /** Empty: every product. */
  allowedProducts: string[];
}

/** The caller of an RPC, as the auth interceptor established it. */
export type Principal =
  | { kind: 'key'; keyId: string; name: string; role: Role }
  | { kind: 'factory'; scope: FactoryScope }
  | { kind: 'enrollment'; tokenId: string; tokenHash: string }
  /** Loopback development mode without a credential: may do anything, recorded as "api". */
  | { kind: 'dev' };

/** How a principal is named in logs and messages (never a secret). */
export function describePrincipal(p: Principal): string {
  switch (p.kind) {
    case 'key':
      return `key "${p.name}" (${p.role})`;
    case 'factory':
      return `factory "${p.scope.factoryId}"`;
    case 'enrollment':
      return `enrollment token ${p.tokenId}`;
    case 'dev':
      return 'development mode (no credential)';
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
export const FACTORY_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;
const MAX_GRANTS = 64;

export function validateKeyName(name: string): string {
  if (!name) throw invalidArgument('name is required');
  if (!NAME.test(name)) throw invalidArgument(`name "${name}" must be 1-64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit`);
  return name;
}

export function validateFactoryId(id: string, field: string): string {
  if (!FACTORY_ID.test(id)) throw invalidArgument(`${field} "${id}" must be 1-128 characters of letters, digits, ".", "_", ":", "@" or "-"`);
  return id;
}

export function validateGrants(grants: readonly LabelGrant[], field: string): LabelGrant[] {
  if (grants.length > MAX_GRANTS) throw invalidArgument(`${field} has ${grants.length} entries; at most ${MAX_GRANTS} are allowed`);
  const seen = new Set<string>();
  return grants.map((g, i) => {
    if (!LABEL_KEY.test(g.key)) throw invalidArgument(`${field}[${i}].key "${g.key}" must be 1-63 letters, digits, ".", "_", "/" or "-"`);
    if (seen.has(g.key)) throw invalidArgument(`${field}[${i}].key "${g.key}" is granted twice; list its values in one entry`);
    seen.add(g.key);
    return { key: g.key, values: [...new Set(g.values)] };
  });
}

export function validateProducts(products: readonly string[], field: string): string[] {
  for (const [i, p] of products.entries()) {
    try {
      validateProductId(p);
    } catch (err) {
      throw invalidArgument(`${field}[${i}]: ${(err as Error).message}`);
    }
  }
  return [...new Set(products)];
}

/**
 * The labels in `labels` that `grants` do not allow, as "key=value" (empty when all are allowed).
 * A factory may advertise fewer labels than granted, never another key or another value.
 */
export function labelsOutsideGrants(labels: Readonly<Record<string, string>>, grants: readonly LabelGrant[]): string[] {
  const byKey = new Map(grants.map((g) => [g.key, g.values]));
  return Object.entries(labels)
    .filter(([key, value]) => {
      const values = byKey.get(key);
      return values === undefined || (values.length > 0 && !values.includes(value));
    })
    .map(([key, value]) => `${key}=${value}`);
}

/** The hello a factory with this scope may send: its own id (or none, meaning its own) and granted labels. */
export function checkHelloScope(scope: FactoryScope, factoryId: string, labels: Readonly<Record<string, string>>): void {
  if (factoryId !== scope.factoryId) {
    throw new DomainError('permission_denied', `hello.factory_id "${factoryId}" is not the identity of this factory token ("${scope.factoryId}")`);
  }
  const outside = labelsOutsideGrants(labels, scope.allowedLabels);
  if (outside.length > 0) {
    const granted = scope.allowedLabels.map((g) => (g.values.length ? `${g.key}=${g.values.join('|')}` : `${g.key}=*`)).join(', ') || 'none';
    throw new DomainError('permission_denied', `hello.labels ${outside.join(', ')} were not granted at enrollment (granted: ${granted})`);
  }
}

export function mayServeProduct(scope: FactoryScope | null, productId: string): boolean {
  return scope === null || scope.allowedProducts.length === 0 || scope.allowedProducts.includes(productId);
}

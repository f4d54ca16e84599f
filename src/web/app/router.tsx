/** A small History-API router: the server answers every app path with index.html. */
import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'overview' }
  | { page: 'jobs'; query: URLSearchParams }
  | { page: 'job'; jobId: string }
  | { page: 'factories' }
  | { page: 'budgets'; product: string }
  | { page: 'weights'; product: string }
  | { page: 'keys' }
  | { page: 'schedules' }
  | { page: 'sign-in'; next: string }
  | { page: 'not-found'; path: string };

export function parseRoute(location: Location): Route {
  const path = location.pathname.replace(/\/+$/, '') || '/';
  const query = new URLSearchParams(location.search);
  if (path === '/') return { page: 'overview' };
  if (path === '/jobs') return { page: 'jobs', query };
  const job = /^\/jobs\/([^/]+)$/.exec(path);
  if (job) return { page: 'job', jobId: decodeURIComponent(job[1]!) };
  if (path === '/factories') return { page: 'factories' };
  if (path === '/budgets') return { page: 'budgets', product: query.get('product') ?? '' };
  if (path === '/weights') return { page: 'weights', product: query.get('product') ?? '' };
  if (path === '/keys') return { page: 'keys' };
  if (path === '/schedules') return { page: 'schedules' };
  if (path === '/sign-in') return { page: 'sign-in', next: query.get('next') ?? '/' };
  return { page: 'not-found', path };
}

const listeners = new Set<() => void>();

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  const current = location.pathname + location.search;
  if (to === current) return;
  if (opts.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  if (!opts.replace) window.scrollTo(0, 0);
  for (const listener of [...listeners]) listener();
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location));
  useEffect(() => {
    const update = (): void => setRoute(parseRoute(location));
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return route;
}

interface LinkProps {
  href: string;
  children?: ComponentChildren;
  class?: string;
  title?: string;
  'aria-current'?: 'page' | undefined;
}

/** An anchor that navigates inside the app (middle-click and modifier keys still open a tab). */
export function Link({ href, children, class: cls, title, 'aria-current': current }: LinkProps): JSX.Element {
  const onClick = (event: MouseEvent): void => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} class={cls} title={title} aria-current={current} onClick={onClick}>
      {children}
    </a>
  );
}

export function jobPath(jobId: string): string {
  return `/jobs/${encodeURIComponent(jobId)}`;
}

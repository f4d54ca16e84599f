/** The shell: sidebar navigation, connection and sign-in state, and the page for the current path. */
import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Logo } from './components/logo.js';
import { jobEvents, useLiveState } from './events.js';
import { ApiKeysPage } from './pages/api-keys.js';
import { SchedulesPage } from './pages/schedules.js';
import { BudgetsPage } from './pages/budgets.js';
import { WeightsPage } from './pages/weights.js';
import { ROLE_NAMES, useCaller } from './caller.js';
import { FactoriesPage } from './pages/factories.js';
import { JobDetailPage } from './pages/job-detail.js';
import { JobsPage } from './pages/jobs.js';
import { OverviewPage } from './pages/overview.js';
import { SignInPage } from './pages/sign-in.js';
import { Link, navigate, useRoute, type Route } from './router.js';
import { keyHint, session } from './session.js';
import { Empty } from './components/ui.js';

const TITLES: Record<Route['page'], string> = {
  overview: 'Overview',
  jobs: 'Jobs',
  job: 'Job',
  factories: 'Factories',
  budgets: 'Budgets',
  weights: 'Weights',
  keys: 'API keys',
  schedules: 'Schedules',
  'sign-in': 'Sign in',
  'not-found': 'Not found',
};

function useSession(): { key: string | null; refusal: string | null } {
  const read = (): { key: string | null; refusal: string | null } => ({ key: session.apiKey(), refusal: session.refusal });
  const [state, setState] = useState(read);
  useEffect(() => session.subscribe(() => setState(read())), []);
  return state;
}

export function App(): JSX.Element {
  const route = useRoute();
  const { key, refusal } = useSession();
  const caller = useCaller();

  useEffect(() => {
    document.title = route.page === 'job' ? `${route.jobId} · Gigafactory` : `${TITLES[route.page]} · Gigafactory`;
  }, [route]);

  // The coordinator asked for a key (or refused ours): go to sign-in, then come back.
  useEffect(() => {
    if (refusal && route.page !== 'sign-in') navigate(`/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
  }, [refusal, route.page]);

  if (route.page === 'sign-in') return <SignInPage next={route.next} />;

  return (
    <div class="shell">
      <aside class="sidebar">
        <Link href="/" class="brand">
          <Logo />
          <span class="brand-name">Gigafactory</span>
        </Link>
        <nav class="nav" aria-label="Main">
          <NavItem href="/" active={route.page === 'overview'} icon={ICONS.overview}>Overview</NavItem>
          <NavItem href="/jobs" active={route.page === 'jobs' || route.page === 'job'} icon={ICONS.jobs}>Jobs</NavItem>
          <NavItem href="/factories" active={route.page === 'factories'} icon={ICONS.factories}>Factories</NavItem>
          <NavItem href="/schedules" active={route.page === 'schedules'} icon={ICONS.schedules}>Schedules</NavItem>
          <NavItem href="/budgets" active={route.page === 'budgets'} icon={ICONS.budgets}>Budgets</NavItem>
          <NavItem href="/weights" active={route.page === 'weights'} icon={ICONS.weights}>Weights</NavItem>
          <NavItem href="/keys" active={route.page === 'keys'} icon={ICONS.keys}>API keys</NavItem>
        </nav>
        <div class="sidebar-foot">
          <LiveIndicator />
          <div class="account">
            {key ? (
              <>
                <span class="account-key" title={caller ? `The API key "${caller.name}" this tab sends` : 'The API key this tab sends'}>
                  Key {keyHint(key)}
                  {caller && <span class="account-role" data-role={ROLE_NAMES[caller.role]}>{ROLE_NAMES[caller.role]}</span>}
                </span>
                <button
                  type="button"
                  class="link-button"
                  onClick={() => {
                    session.signOut();
                    jobEvents.restart();
                  }}
                >
                  Sign out
                </button>
              </>
            ) : caller?.development ? (
              // Security is off (loopback development mode): every call is admin, a key changes nothing.
              <span class="dev-badge" data-dev-mode title="The coordinator runs in loopback development mode: calls need no API key and act as admin. Turn security on before exposing it.">
                Development mode · every call is admin
              </span>
            ) : (
              <Link href={`/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`} class="link-button">
                Sign in with an API key
              </Link>
            )}
          </div>
        </div>
      </aside>
      <main class="main">
        {route.page === 'overview' && <OverviewPage />}
        {route.page === 'jobs' && <JobsPage query={route.query} />}
        {route.page === 'job' && <JobDetailPage jobId={route.jobId} key={route.jobId} />}
        {route.page === 'factories' && <FactoriesPage />}
        {route.page === 'budgets' && <BudgetsPage product={route.product} />}
        {route.page === 'weights' && <WeightsPage product={route.product} key={route.product} />}
        {route.page === 'keys' && <ApiKeysPage />}
        {route.page === 'schedules' && <SchedulesPage />}
        {route.page === 'not-found' && (
          <div class="page">
            <Empty title="Page not found">
              Nothing lives at <code>{route.path}</code>. <Link href="/">Go to the overview</Link>
            </Empty>
          </div>
        )}
      </main>
    </div>
  );
}

function NavItem({ href, active, icon, children }: { href: string; active: boolean; icon: JSX.Element; children: ComponentChildren }): JSX.Element {
  return (
    <Link href={href} class={`nav-item${active ? ' nav-item-active' : ''}`} aria-current={active ? 'page' : undefined}>
      {icon}
      <span>{children}</span>
    </Link>
  );
}

function LiveIndicator(): JSX.Element {
  const state = useLiveState();
  const [kind, text] =
    state.kind === 'open' ? ['live', 'Live'] : state.kind === 'retrying' ? ['down', 'Reconnecting…'] : ['connecting', 'Connecting…'];
  return (
    <div class={`live live-${kind}`} title={state.kind === 'retrying' ? state.error : 'Job changes stream in as they happen'} data-live={kind}>
      <span class="live-dot" />
      {text}
    </div>
  );
}

const ICONS = {
  overview: (
    <svg viewBox="0 0 20 20" aria-hidden="true"><path fill="currentColor" d="M3 3h6v8H3V3Zm8 0h6v5h-6V3ZM3 13h6v4H3v-4Zm8-3h6v7h-6v-7Z" /></svg>
  ),
  jobs: (
    <svg viewBox="0 0 20 20" aria-hidden="true"><path fill="currentColor" d="M3 4h2v2H3V4Zm4 0h10v2H7V4ZM3 9h2v2H3V9Zm4 0h10v2H7V9Zm-4 5h2v2H3v-2Zm4 0h10v2H7v-2Z" /></svg>
  ),
  schedules: (
    <svg viewBox="0 0 20 20" aria-hidden="true"><path fill="currentColor" d="M10 2a8 8 0 1 0 0 16 8 8 0 0 0 0-16Zm0 2a6 6 0 1 1 0 12 6 6 0 0 1 0-12Zm-1 2v4.4l3.3 3.3 1.4-1.4L11 9.6V6H9Z" /></svg>
  ),
  budgets: (
    <svg viewBox="0 0 20 20" aria-hidden="true"><path fill="currentColor" d="M10 2a8 8 0 1 0 8 8h-8V2Zm2 0v6h6a8 8 0 0 0-6-6Z" /></svg>
  ),
  weights: (
    <svg viewBox="0 0 20 20" aria-hidden="true"><path fill="currentColor" d="M9 2h2v2.1l5 1.4V7l-2 5a3 3 0 0 1-6 0l1.6-4.1L11 7.6V16h3v2H6v-2h3V7.6l-1.6.4L9 12a3 3 0 0 1-6 0l2-5V5.5l4-1.1V2Zm-4 9.5h2L6 8.9 5 11.5Zm9 0h2l-1-2.6-1 2.6Z" /></svg>
  ),
  keys: (
    <svg viewBox="0 0 20 20" aria-hidden="true"><path fill="currentColor" d="M12.5 2a5.5 5.5 0 0 0-5.2 7.3L2 14.6V18h3.4v-2h2v-2h2l1.3-1.3A5.5 5.5 0 1 0 12.5 2Zm1.5 3a1.5 1.5 0 1 1 0 3 1.5 1.5 0 0 1 0-3Z" /></svg>
  ),
  factories: (
    <svg viewBox="0 0 20 20" aria-hidden="true"><path fill="currentColor" d="M2 17V8l4 2.5V8l4 2.5V8l4 2.5V3h4v14H2Zm3-4v2h2v-2H5Zm4 0v2h2v-2H9Zm4 0v2h2v-2h-2Z" /></svg>
  ),
};

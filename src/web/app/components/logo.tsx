import type { JSX } from 'preact';

export function Logo({ size = 28 }: { size?: number }): JSX.Element {
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" class="logo">
      <rect width="32" height="32" rx="7" fill="#0b1220" />
      <rect x="7" y="8" width="18" height="4" rx="2" fill="#60a5fa" />
      <rect x="7" y="14" width="13" height="4" rx="2" fill="#34d399" />
      <rect x="7" y="20" width="8" height="4" rx="2" fill="#fbbf24" />
    </svg>
  );
}

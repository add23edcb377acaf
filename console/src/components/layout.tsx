import type { ComponentChildren } from 'preact';
import { href, type Route } from '../router';

const NAV: readonly { readonly label: string; readonly route: Route; readonly pages: readonly Route['page'][] }[] = [
  { label: 'Devices', route: { page: 'devices' }, pages: ['devices', 'device'] },
  { label: 'Claim', route: { page: 'claim' }, pages: ['claim'] },
  { label: 'Networks', route: { page: 'networks' }, pages: ['networks'] },
  { label: 'Migrations', route: { page: 'migrations' }, pages: ['migrations', 'migration'] },
  { label: 'Usage', route: { page: 'usage' }, pages: ['usage'] },
];

export function Layout({ route, onSignOut, children }: { route: Route; onSignOut: () => void; children: ComponentChildren }) {
  return (
    <div class="shell">
      <header class="topbar">
        <a class="brand" href={href({ page: 'devices' })}>
          Joinery
        </a>
        <nav class="nav" aria-label="Main">
          {NAV.map((item) => (
            <a key={item.label} href={href(item.route)} class={item.pages.includes(route.page) ? 'active' : undefined} aria-current={item.pages.includes(route.page) ? 'page' : undefined}>
              {item.label}
            </a>
          ))}
        </nav>
        <button type="button" class="link signout" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main class="content">{children}</main>
    </div>
  );
}

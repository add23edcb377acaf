import type { ComponentChildren } from 'preact';
import type { Identity } from '../api/endpoints';
import { href, type Route } from '../router';

const NAV: readonly { readonly label: string; readonly route: Route; readonly pages: readonly Route['page'][]; readonly operatorOnly?: boolean; readonly adminScope?: boolean }[] = [
  { label: 'Devices', route: { page: 'devices' }, pages: ['devices', 'device'] },
  { label: 'Claim', route: { page: 'claim' }, pages: ['claim'] },
  { label: 'Networks', route: { page: 'networks' }, pages: ['networks', 'network-server'] },
  { label: 'Migrations', route: { page: 'migrations' }, pages: ['migrations', 'migration'], operatorOnly: true },
  { label: 'Usage', route: { page: 'usage' }, pages: ['usage'] },
  { label: 'Audit log', route: { page: 'audit' }, pages: ['audit'] },
  { label: 'API keys', route: { page: 'api-keys' }, pages: ['api-keys'], adminScope: true },
];

/** The instance's operator: an admin tenant's key with the admin scope (fleet migrations are theirs). */
export function isOperator(identity: Identity | undefined): boolean {
  return identity !== undefined && identity.tenant.roles.includes('admin') && identity.scopes.includes('admin');
}

export function Layout({ route, identity, onSignOut, children }: { route: Route; identity: Identity | undefined; onSignOut: () => void; children: ComponentChildren }) {
  return (
    <div class="shell">
      <header class="topbar">
        <a class="brand" href={href({ page: 'devices' })}>
          Joinery
        </a>
        <nav class="nav" aria-label="Main">
          {NAV.filter((item) => (!item.operatorOnly || isOperator(identity)) && (!item.adminScope || identity?.scopes.includes('admin') === true)).map((item) => (
            <a key={item.label} href={href(item.route)} class={item.pages.includes(route.page) ? 'active' : undefined} aria-current={item.pages.includes(route.page) ? 'page' : undefined}>
              {item.label}
            </a>
          ))}
        </nav>
        {identity && <span class="tenant">{identity.tenant.name}</span>}
        <button type="button" class="link signout" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main class="content">{children}</main>
    </div>
  );
}

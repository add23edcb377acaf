import { useEffect, useState } from 'preact/hooks';

/** The console's pages, addressed by the URL fragment (`#/devices/0004a30b001c0530`). */
export type Route =
  | { readonly page: 'devices' }
  | { readonly page: 'device'; readonly devEUI: string }
  | { readonly page: 'claim' }
  | { readonly page: 'networks' }
  | { readonly page: 'network-server'; readonly name: string }
  | { readonly page: 'migrations' }
  | { readonly page: 'migration'; readonly id: string }
  | { readonly page: 'usage' }
  | { readonly page: 'audit' }
  | { readonly page: 'api-keys' };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case 'devices':
      return parts[1] ? { page: 'device', devEUI: parts[1] } : { page: 'devices' };
    case 'migrations':
      return parts[1] ? { page: 'migration', id: parts[1] } : { page: 'migrations' };
    case 'networks':
      return parts[1] ? { page: 'network-server', name: parts[1] } : { page: 'networks' };
    case 'claim':
    case 'usage':
    case 'audit':
    case 'api-keys':
      return { page: parts[0] };
    default:
      return { page: 'devices' };
  }
}

export function href(route: Route): string {
  switch (route.page) {
    case 'device':
      return `#/devices/${encodeURIComponent(route.devEUI)}`;
    case 'migration':
      return `#/migrations/${encodeURIComponent(route.id)}`;
    case 'network-server':
      return `#/networks/${encodeURIComponent(route.name)}`;
    default:
      return `#/${route.page}`;
  }
}

export function navigate(route: Route): void {
  location.hash = href(route);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

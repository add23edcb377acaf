import { useEffect, useState } from 'preact/hooks';
import { ApiClient } from './api/client';
import { ClientContext } from './client-context';
import { whoami, type Identity } from './api/endpoints';
import { isOperator, Layout } from './components/layout';
import { useRoute, type Route } from './router';
import { forgetApiKey, storedApiKey, storeApiKey } from './session';
import { SignIn } from './pages/sign-in';
import { Devices } from './pages/devices';
import { DevicePage } from './pages/device';
import { Claim } from './pages/claim';
import { Networks } from './pages/networks';
import { NetworkServerPage } from './pages/network-server';
import { Migrations } from './pages/migrations';
import { Audit } from './pages/audit';
import { MigrationPage } from './pages/migration';
import { Usage } from './pages/usage';
import { ApiKeys } from './pages/api-keys';

export function App() {
  const [client, setClient] = useState(() => {
    const key = storedApiKey();
    return key ? new ApiClient(key) : undefined;
  });
  const [identity, setIdentity] = useState<Identity>();
  const route = useRoute();
  const signOut = () => {
    forgetApiKey();
    setClient(undefined);
    setIdentity(undefined);
  };
  // A key kept from before a reload: who it is (a revoked key signs out).
  useEffect(() => {
    if (client && !identity) whoami(client).then(setIdentity, signOut);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- asked once per key, not again when the answer sets identity
  }, [client]);
  if (!client) {
    return (
      <SignIn
        onSignedIn={(apiKey, who) => {
          storeApiKey(apiKey);
          setIdentity(who);
          setClient(new ApiClient(apiKey));
        }}
      />
    );
  }
  return (
    <ClientContext.Provider value={client}>
      <Layout route={route} identity={identity} onSignOut={signOut}>
        <Page route={route} identity={identity} operator={isOperator(identity)} />
      </Layout>
    </ClientContext.Provider>
  );
}

function Page({ route, identity, operator }: { route: Route; identity: Identity | undefined; operator: boolean }) {
  switch (route.page) {
    case 'devices':
      return <Devices />;
    case 'device':
      return <DevicePage devEUI={route.devEUI} />;
    case 'claim':
      return <Claim />;
    case 'networks':
      return <Networks />;
    case 'network-server':
      return <NetworkServerPage name={route.name} />;
    case 'migrations':
      return <Migrations />;
    case 'migration':
      return <MigrationPage id={route.id} />;
    case 'usage':
      return <Usage />;
    case 'audit':
      return <Audit operator={operator} />;
    case 'api-keys':
      return <ApiKeys identity={identity} operator={operator} />;
  }
}

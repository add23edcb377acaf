import type { JoinEUIPrefix } from '../lorawan/join-eui-prefix';

/** What renderSetup needs: who the network server is, how it reaches us, and its credentials. */
export interface AdapterSetupInput {
  /** The peer's name in Joinery. */
  readonly name: string;
  readonly netID: string;
  readonly nsID: string | null;
  /** The network server's Backend Interfaces URL at Joinery (`https://host:port/bi/<name>`). */
  readonly biURL: string;
  /** The JoinEUI ranges whose joins the network server must send to Joinery. */
  readonly joinEUIPrefixes: readonly JoinEUIPrefix[];
  readonly kek: { readonly label: string; readonly kekHex: string };
  /**
   * Where the operator will put the credential bundle's files on the network server's host
   * (an absolute directory): config files name `ca.crt`, `client.crt`, `client.key` there.
   */
  readonly installDir: string;
  /**
   * The exact `Authorization` header value the network server must send (Joinery refuses its
   * requests without it), rendered into its configuration: a file that holds it is secret.
   * Null: no header secret.
   */
  readonly authorizationHeader: string | null;
  /**
   * Asynchronous answers: Joinery POSTs each answer to `url`, the network server's own Backend
   * Interfaces listener, over mutual TLS, presenting its `js-client` certificate (issued by the
   * bundle's ca.crt). `listenerCertificate` says whether the bundle carries a server certificate
   * for that listener (ASYNC_LISTENER_FILES, issued by Joinery's CA), or the operator brings one
   * of their own. Null: answers come in the HTTP response.
   */
  readonly asyncAnswers: { readonly url: string; readonly listenerCertificate: 'bundle' | 'own' } | null;
  /** The bundle's ca.crt and client.crt (PEM), for setup sheets that carry them; absent: sheets name the files. */
  readonly caCertificatePEM?: string;
  readonly clientCertificatePEM?: string;
}

/** The server certificate and key of a network server's asynchronous-answer listener, in its bundle. */
export const ASYNC_LISTENER_FILES = { cert: 'async-listener.crt', key: 'async-listener.key' } as const;

/** The directory, inside The Things Stack's interop directory, that holds a Join Server's js.yml and TLS files. */
export function ttsInteropDirectory(peerName: string): string {
  return `joinery-${peerName}`;
}

/** A file for the network server's configuration; `secret` files carry the KEK or a header secret (mode 0600). */
export interface SetupFile {
  readonly name: string;
  readonly content: string;
  readonly secret: boolean;
}

export interface RenderedSetup {
  readonly files: readonly SetupFile[];
  /** What the operator does, in order, one step a line. */
  readonly instructions: readonly string[];
}

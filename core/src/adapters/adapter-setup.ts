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
  /** The bundle's ca.crt and client.crt (PEM), for setup sheets that carry them; absent: sheets name the files. */
  readonly caCertificatePEM?: string;
  readonly clientCertificatePEM?: string;
}

/** A file for the network server's configuration; `secret` files carry the KEK (mode 0600). */
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

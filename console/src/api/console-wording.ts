/**
 * The admin API's messages are shared with the command line (`joinery ... --url`), so some name
 * a flag (`--kek-label: ...`), a request field (`body/name must ...`) or a command to run
 * (`add it with: joinery ns add`). The console says the same in its own words: the field as its
 * forms label it, and what to do in the console (or to ask the operator, who has the host).
 */

/** Flags and request fields, as the console's forms name them. */
const FIELDS: Readonly<Record<string, string>> = {
  name: 'Name',
  'net-id': 'NetID',
  netID: 'NetID',
  'ns-id': 'NSID',
  nsID: 'NSID',
  'as-id': 'AS-ID',
  asID: 'AS-ID',
  'kek-label': 'KEK label',
  kekLabel: 'KEK label',
  vendor: 'Vendor',
  'join-eui-prefix': 'JoinEUI ranges',
  joinEUIPrefixes: 'JoinEUI ranges',
  'api-url': 'API URL',
  apiURL: 'API URL',
  'api-key': 'API key',
  'api-key-file': 'API key',
  apiKey: 'API key',
  'rate-limit': 'Rate limit',
  'max-concurrency': 'Concurrency',
  'async-answer-url': 'Answer URL',
  'authorization-header': 'Authorization header',
  authorizationHeader: 'Authorization header',
  fingerprint: 'Certificate',
  overlap: 'Overlap',
  ns: 'Network server',
  networkServer: 'Network server',
  as: 'Application server',
  applicationServer: 'Application server',
  'dev-eui': 'DevEUI',
  devEUI: 'DevEUI',
  devEUIs: 'Devices',
  'owner-token': 'Owner token',
  ownerToken: 'Owner token',
  tenant: 'Tenant',
  to: 'New owner',
  scopes: 'Permissions',
  label: 'Label',
  reason: 'Reason',
  since: 'Since',
  sourcePeer: 'From network server',
  targetPeer: 'To network server',
  strategy: 'Strategy',
};

/** Command-line advice, and what the console says instead. */
const ADVICE: ReadonlyArray<readonly [RegExp, string]> = [
  [/\(add it with: joinery ns add\)/g, '(add it on the Networks page)'],
  [/\(add it with: joinery as add\)/g, '(add it on the Networks page)'],
  [/\(ns add \.\.\. --api-url\)/g, '(it needs a management API: its API URL and API key, given when it is added)'],
  [/renew it with --retire-old instead/g, 'renew its certificate instead'],
  [/give it with --api-key-file, or run joinery ns set \S+ --api-key-file FILE/g, 'the operator can give it again on the Joinery host'],
  [/\(joinery keys rotate-master --retire-old\)/g, '(the operator can do this on the Joinery host)'],
];

const label = (field: string): string => FIELDS[field] ?? field.replace(/[-_]/g, ' ');

/** An admin API error message, worded for the console. */
export function consoleWording(message: string): string {
  let m = message;
  for (const [pattern, replacement] of ADVICE) m = m.replace(pattern, replacement);
  // `--kek-label: reason` (a ParseError of a flag) and `body/name must ...` (request validation).
  m = m.replace(/^--([a-z][a-z0-9-]*): /, (_all, flag: string) => `${label(flag)}: `);
  m = m.replace(/^(?:body|querystring|params)\/([A-Za-z][\w-]*) /, (_all, field: string) => `${label(field)} `);
  m = m.replace(/^(?:body|querystring|params) must have required property '([\w-]+)'/, (_all, field: string) => `${label(field)} is required`);
  m = m.replace(/ must match pattern "[^"]*"/, ' is not in the expected form');
  // Whatever command-line syntax is left: the flag as a field name, a command as the operator's.
  // A command: its words, then its flags with their values, placeholders and names before a flag.
  m = m.replace(/(?:\b(?:run|use|with:?) )?`?\bjoinery [a-z][a-z-]*(?: [a-z][a-z-]*)?(?: (?:--[a-z][a-z0-9-]*(?: [^\s-][^\s.;,)`]*)?|[A-Z][A-Z_]+|[a-z0-9][\w.-]*(?= --)))*`?/g, 'ask the operator (on the Joinery host)');
  m = m.replace(/(^|[\s(])--([a-z][a-z0-9-]*)/g, (_all, before: string, flag: string) => `${before}"${label(flag)}"`);
  return m;
}

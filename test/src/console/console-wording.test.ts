import { consoleWording } from '../../../console/src/api/console-wording';
import { checkVendorPeerSettings } from '../../../core/src/peers/vendor-dialect';

/** What core throws, as the admin API sends it (`{message}`): the message of the thrown error. */
function thrown(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('did not throw');
}

const CLI_SYNTAX = /(^|[\s(`])--[a-z]|\bjoinery [a-z]/;

// The admin API's messages speak the command line's language (they are shared with `joinery
// ... --url`); the console shows them with its forms' field names and its own advice.
test.each([
  // Flags of a ParseError, from core itself.
  [thrown(() => checkVendorPeerSettings('the-things-stack', { kekLabel: 'KEK.One' })), /^KEK label: the-things-stack cannot find the KEK label "KEK\.One": .*use lower case without "\."$/],
  [thrown(() => checkVendorPeerSettings('the-things-stack', { asyncAnswers: true })), /^Answer URL: the-things-stack reads every answer from the HTTP response/],
  // Advice naming a command.
  ['--ns: no network server named eu1 (add it with: joinery ns add)', /^Network server: no network server named eu1 \(add it on the Networks page\)$/],
  [
    'network server cs (source) has no adapter configured (ns add ... --api-url)',
    /^network server cs \(source\) has no adapter configured \(it needs a management API: its API URL and API key, given when it is added\)$/,
  ],
  ["--fingerprint: ab12 is acme-ns's current certificate: renew it with --retire-old instead", /^Certificate: ab12 is acme-ns's current certificate: renew its certificate instead$/],
  [
    'no API key for network server cs in this data directory (/d/adapter-keys/cs.key is missing): give it with --api-key-file, or run joinery ns set cs --api-key-file FILE',
    /: the operator can give it again on the Joinery host$/,
  ],
  // Request validation (fastify's messages).
  ['body/name must match pattern "^[a-z0-9][a-z0-9-]{0,62}$"', /^Name is not in the expected form$/],
  ["body must have required property 'netID'", /^NetID is required$/],
  // Anything else with a flag or a command: no command-line syntax left.
  ['expected requests per second for --rate-limit, or run joinery ns set x --rate-limit 5 to change it', /^expected requests per second for "Rate limit", or ask the operator \(on the Joinery host\) to change it$/],
])('console wording/%s', (message, expected) => {
  const worded = consoleWording(message);
  expect(worded).toMatch(expected);
  expect(worded).not.toMatch(CLI_SYNTAX);
});

test('console wording/messages without command-line syntax are left as they are', () => {
  for (const m of ['no device 0004a30b001c0530', 'this API key lacks the admin scope', 'the store is busy or unreachable; try again shortly', 'DevNonce 7 -- already used']) expect(consoleWording(m)).toBe(m);
});

/** JSON schemas shared by the admin API's routes: they validate requests and make the OpenAPI document. */

export const EUI64_SCHEMA = { type: 'string', pattern: '^(0[xX])?[0-9A-Fa-f]{16}$', description: 'EUI-64, 16 hex digits' } as const;
export const NAME_SCHEMA = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' } as const;
const nullableString = { type: ['string', 'null'] } as const;

export const DEVICE_SCHEMA = {
  $id: 'Device',
  type: 'object',
  properties: {
    devEUI: { type: 'string' },
    joinEUI: { type: 'string' },
    macVersion: { type: 'string' },
    profileID: { type: 'string' },
    manufacturer: { type: 'string' },
    owner: nullableString,
    claimed: { type: 'boolean' },
    locked: { type: 'boolean' },
    networkServer: nullableString,
    applicationServer: nullableString,
    claimedAt: nullableString,
    activatedAt: nullableString,
    lastJoinAt: nullableString,
    lastJoinNetworkServer: nullableString,
    createdAt: { type: 'string' },
  },
} as const;

export const NEW_OWNER_TOKEN_SCHEMA = {
  $id: 'NewOwnerToken',
  type: 'object',
  description: 'A new owner token, shown only here, and its TR005 QR code payload',
  properties: {
    devEUI: { type: 'string' },
    joinEUI: { type: 'string' },
    profileID: { type: 'string' },
    ownerToken: { type: 'string' },
    qrPayload: { type: 'string' },
    owner: nullableString,
  },
} as const;

export const PEER_SCHEMA = {
  $id: 'Peer',
  type: 'object',
  properties: {
    name: { type: 'string' },
    kind: { type: 'string', enum: ['ns', 'as'] },
    tenant: { type: 'string' },
    netID: { type: 'string' },
    nsID: nullableString,
    vendor: { type: 'string' },
    asID: { type: 'string' },
    kekLabel: { type: 'string' },
    createdAt: { type: 'string' },
  },
} as const;

/** A peer with its lifecycle (peer-summary.ts): never a key, nor the header secret. */
export const PEER_SUMMARY_SCHEMA = {
  $id: 'PeerSummary',
  type: 'object',
  properties: {
    name: { type: 'string' },
    kind: { type: 'string', enum: ['ns', 'as'] },
    tenant: { type: 'string' },
    vendor: nullableString,
    netID: nullableString,
    nsID: nullableString,
    asID: nullableString,
    state: { type: 'string', enum: ['enabled', 'disabled'] },
    kekLabel: { type: 'string' },
    certificateExpiry: { ...nullableString, description: "the current client certificate's notAfter (null: unknown)" },
    certificates: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          fingerprint: { type: 'string', description: "SHA-256 of the certificate's DER" },
          status: { type: 'string', enum: ['current', 'accepted', 'retired'] },
          issuedAt: { type: 'string' },
          notAfter: nullableString,
          retiresAt: nullableString,
        },
      },
    },
    boundDevices: { type: 'integer' },
    lastJoinAt: nullableString,
    asyncAnswerURL: nullableString,
    authorizationHeaderSet: { type: 'boolean' },
    managementAPIURL: nullableString,
    createdAt: { type: 'string' },
    recentJoinResults: { type: 'object', additionalProperties: { type: 'integer' }, description: 'joins over the last day by BI result code, from the join history (summary of one peer only)' },
  },
} as const;

export const TENANT_SCHEMA = {
  $id: 'Tenant',
  type: 'object',
  properties: { id: { type: 'string' }, name: { type: 'string' }, roles: { type: 'array', items: { type: 'string' } }, createdAt: { type: 'string' } },
} as const;

export const API_KEY_SCHEMA = {
  $id: 'ApiKey',
  type: 'object',
  properties: {
    id: { type: 'string' },
    tenantID: { type: 'string' },
    scopes: { type: 'array', items: { type: 'string' } },
    label: { type: 'string' },
    createdAt: { type: 'string' },
    revokedAt: nullableString,
  },
} as const;

export const AUDIT_EVENT_SCHEMA = {
  $id: 'AuditEvent',
  type: 'object',
  properties: {
    at: { type: 'string' },
    actor: { type: 'string' },
    tenantID: nullableString,
    source: nullableString,
    action: { type: 'string' },
    devEUI: nullableString,
    detail: { type: 'object', additionalProperties: true },
  },
} as const;

export const JOIN_RECORD_SCHEMA = {
  $id: 'JoinRecord',
  type: 'object',
  description: 'One join attempt of a device, accepted or refused (never a key)',
  properties: {
    at: { type: 'string' },
    networkServer: { type: 'string' },
    joinEUI: { type: 'string' },
    joinType: { type: 'string', enum: ['join', 'rejoin-0', 'rejoin-1', 'rejoin-2'] },
    macVersion: { type: 'string' },
    result: { type: 'string', description: 'the BI result code answered (Success, JoinReqFailed, MICFailed...)' },
    description: nullableString,
    devNonce: { type: ['integer', 'null'], description: 'the DevNonce, or the RJcount of a rejoin' },
    joinNonce: { type: ['integer', 'null'], description: 'the JoinNonce issued (accepted joins)' },
  },
} as const;

export const SHARED_SCHEMAS = [JOIN_RECORD_SCHEMA, DEVICE_SCHEMA, NEW_OWNER_TOKEN_SCHEMA, PEER_SCHEMA, PEER_SUMMARY_SCHEMA, TENANT_SCHEMA, API_KEY_SCHEMA, AUDIT_EVENT_SCHEMA] as const;

export const DEV_EUI_PARAMS = { type: 'object', properties: { devEUI: EUI64_SCHEMA }, required: ['devEUI'] } as const;

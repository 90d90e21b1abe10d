/**
 * The team manifest: built with `createManifest`, signed by the root with `signManifest` (the
 * canonical CBOR of its fields and the signature), opened with `openManifest` by every node: one
 * strict, bounded decoder, the same checks as at signing, then the root's signature.
 */
import {
  AUTHORITY_LEVELS,
  type AuthorityLevel,
  createRoleRegistry,
  getPredefinedRoles,
  keyIdOf,
  type RoleDefinition,
  type RoleRegistry
} from '@chorus/crypto'
import { type ManifestInit, manifestDefaults, teamLimits } from './config.js'
import { KEY_BYTES } from './ed25519.js'
import {
  ageRecipient,
  byteString,
  exactKeys,
  fault,
  int,
  isPlainObject,
  list,
  name,
  text,
  toBase64url,
  unique
} from './encoding.js'
import { InvalidManifestError } from './errors.js'
import type { RoleRecipient, TeamIssuer, TeamManifest, TeamRole } from './manifest-types.js'
import { isTeamId, type TeamSigner } from './root.js'
import { guardedBy, openRootDocument, type RootDocumentKind, signRootDocument } from './root-document.js'

// Domain separation: a manifest signature can never be replayed as a certificate or an envelope.
const CONTEXT = new TextEncoder().encode('CHORUS-TEAM-MANIFEST-v1\n')
const FIELDS = ['team', 'version', 'issuedAt', 'roles', 'recipients', 'issuers'] as const
const L = teamLimits
const MANIFEST: RootDocumentKind<TeamManifest> = {
  what: 'manifest',
  context: CONTEXT,
  fields: FIELDS,
  maxBytes: () => L.maxManifestBytes,
  check: checkManifest,
  wire: wireFields,
  refuse: (detail) => new InvalidManifestError(detail)
}

/** The predefined roles of @chorus/crypto as manifest roles. */
export function predefinedTeamRoles(): Record<string, TeamRole> {
  return teamRolesOf(Object.values(getPredefinedRoles()))
}

/** The manifest's roles for a set of role definitions (a registry's `list()`, say). */
export function teamRolesOf(roles: Iterable<RoleDefinition>): Record<string, TeamRole> {
  return Object.fromEntries(
    [...roles].map((r) => [
      r.name,
      { authority: r.authority, canDecrypt: [...r.canDecrypt], description: r.description }
    ])
  )
}

/**
 * A manifest for `init.team`, checked by the rules `openManifest` applies.
 * @throws InvalidManifestError (`TEAM_INVALID_MANIFEST`) when it breaks one, naming the rule.
 */
export function createManifest(init: ManifestInit): TeamManifest {
  return guardedBy(MANIFEST, () =>
    checkManifest({
      team: init.team,
      version: init.version ?? manifestDefaults.version,
      issuedAt: init.issuedAt ?? Date.now(),
      roles: init.roles ?? predefinedTeamRoles(),
      recipients: init.recipients ?? manifestDefaults.recipients,
      issuers: init.issuers ?? manifestDefaults.issuers
    })
  )
}

/**
 * Signs a manifest with the team root: the canonical CBOR of its fields and the signature over
 * `CHORUS-TEAM-MANIFEST-v1\n` followed by the canonical CBOR of its fields.
 * @throws InvalidManifestError (`TEAM_INVALID_MANIFEST`) when the manifest breaks a rule or its
 *   encoding is over `teamLimits.maxManifestBytes`;
 *   InvalidInputError (`TEAM_INVALID_INPUT`) when the signer is not the root of `manifest.team`
 *   or its signature does not verify with its public key.
 */
export function signManifest(manifest: TeamManifest, signer: TeamSigner): Uint8Array {
  return signRootDocument(MANIFEST, manifest, signer)
}

/**
 * Decodes a signed manifest and verifies it with the team root `rootKey`: canonical CBOR within
 * `teamLimits.maxManifestBytes`, exactly the manifest fields within their bounds, every
 * `canDecrypt` and `recipients` name a role of the manifest, `team` the id of `rootKey`, and the
 * root's signature.
 * @throws InvalidManifestError (`TEAM_INVALID_MANIFEST`) naming the broken rule (never the input);
 *   InvalidInputError (`TEAM_INVALID_INPUT`) when `rootKey` is not 32 bytes.
 */
export function openManifest(bytes: Uint8Array, rootKey: Uint8Array): TeamManifest {
  return openRootDocument(MANIFEST, bytes, rootKey)
}

/** The crypto role registry of exactly the manifest's roles (no predefined ones). */
export function registryOf(manifest: TeamManifest): RoleRegistry {
  return createRoleRegistry(
    Object.fromEntries(
      Object.entries(manifest.roles).map(([n, r]) => [n, { ...r, canDecrypt: [...r.canDecrypt] }])
    ),
    { includePredefined: false, source: 'team manifest' }
  )
}

function wireFields(m: TeamManifest): Record<string, unknown> {
  return {
    team: m.team,
    version: m.version,
    issuedAt: m.issuedAt,
    roles: m.roles,
    recipients: m.recipients,
    issuers: m.issuers.map((i) => ({ name: i.name, key: i.key }))
  }
}

/** Every rule of a manifest but the signature; returns a fresh copy. Throws `Fault`. */
function checkManifest(input: unknown): TeamManifest {
  const raw = exactKeys(input, FIELDS, 'manifest')
  if (!isTeamId(raw.team)) fault('team must be a team id')
  const roles = checkRoles(raw.roles)
  const manifest: TeamManifest = {
    team: raw.team,
    version: int(raw.version, 1, Number.MAX_SAFE_INTEGER, 'version'),
    issuedAt: int(raw.issuedAt, 0, Number.MAX_SAFE_INTEGER, 'issuedAt'),
    roles,
    recipients: checkRecipients(raw.recipients, roles),
    issuers: checkIssuers(raw.issuers)
  }
  try {
    registryOf(manifest)
  } catch {
    fault('roles are not a valid role set')
  }
  return manifest
}

function entries(v: unknown, max: number, what: string, min = 0): [string, unknown][] {
  if (!isPlainObject(v)) fault(`${what} must be a map`)
  const all = Object.entries(v)
  if (all.length < min || all.length > max) fault(`${what} must have ${min} to ${max} entries`)
  return all
}

function checkRoles(v: unknown): Record<string, TeamRole> {
  const roles: [string, TeamRole][] = entries(v, L.maxRoles, 'roles', 1).map(([n, spec]) => {
    name(n, 'role name')
    const r = exactKeys(spec, ['authority', 'canDecrypt', 'description'], 'role')
    if (!AUTHORITY_LEVELS.includes(r.authority as AuthorityLevel))
      fault('authority must be an authority level')
    const canDecrypt = list(r.canDecrypt, L.maxRoles, 'canDecrypt').map((t) =>
      t === '*' ? t : name(t, 'canDecrypt')
    )
    unique(canDecrypt, 'canDecrypt')
    const description = text(r.description, L.maxDescriptionChars, 'description')
    return [n, { authority: r.authority as AuthorityLevel, canDecrypt, description }]
  })
  const defined = new Set(roles.map(([n]) => n))
  for (const [, r] of roles) {
    if (r.canDecrypt.some((t) => t !== '*' && !defined.has(t)))
      fault('canDecrypt names a role the manifest does not define')
  }
  return Object.fromEntries(roles)
}

function checkRecipients(v: unknown, roles: Record<string, TeamRole>): Record<string, RoleRecipient[]> {
  const out = entries(v, L.maxRoles, 'recipients').map(([role, keys]): [string, RoleRecipient[]] => {
    if (!Object.hasOwn(roles, name(role, 'recipients role')))
      fault('recipients names a role the manifest does not define')
    const recipients = list(keys, L.maxRecipientsPerRole, 'recipients of a role').map(checkRecipient)
    unique(
      recipients.map((r) => r.keyId),
      'recipients of a role'
    )
    return [role, recipients]
  })
  return Object.fromEntries(out)
}

const RECIPIENT_FIELDS = ['keyId', 'recipient', 'status', 'createdAt'] as const
const RETIREMENT_FIELDS = ['retiredAt', 'overlapUntil'] as const

function checkRecipient(k: unknown): RoleRecipient {
  if (!isPlainObject(k)) fault('recipient must be a map')
  // the four fields, and on a retired key when it was retired and its overlap window (optional)
  const optional = RETIREMENT_FIELDS.filter((f) => Object.hasOwn(k, f))
  const e = exactKeys(k, [...RECIPIENT_FIELDS, ...optional], 'recipient')
  const recipient = ageRecipient(e.recipient, 'recipient')
  if (e.keyId !== keyIdOf(recipient)) fault('keyId must be keyIdOf(recipient)')
  if (e.status !== 'current' && e.status !== 'retired') fault('status must be current or retired')
  const out: RoleRecipient = {
    keyId: e.keyId,
    recipient,
    status: e.status,
    createdAt: int(e.createdAt, 0, Number.MAX_SAFE_INTEGER, 'createdAt')
  }
  if (optional.length > 0 && e.status !== 'retired') fault('only a retired key has retiredAt or overlapUntil')
  if (e.retiredAt !== undefined) out.retiredAt = int(e.retiredAt, 0, Number.MAX_SAFE_INTEGER, 'retiredAt')
  if (e.overlapUntil !== undefined) {
    if (out.retiredAt === undefined) fault('overlapUntil needs retiredAt')
    out.overlapUntil = int(e.overlapUntil, out.retiredAt, Number.MAX_SAFE_INTEGER, 'overlapUntil')
  }
  return out
}

function checkIssuers(v: unknown): TeamIssuer[] {
  const issuers = list(v, L.maxIssuers, 'issuers').map((i): TeamIssuer => {
    const e = exactKeys(i, ['name', 'key'], 'issuer')
    return { name: name(e.name, 'issuer name'), key: byteString(e.key, KEY_BYTES, 'issuer key') }
  })
  unique(
    issuers.map((i) => i.name),
    'issuer names'
  )
  unique(
    issuers.map((i) => toBase64url(i.key)),
    'issuer keys'
  )
  return issuers
}

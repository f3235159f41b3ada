/**
 * The people, organizations and projects the local stack starts with.
 *
 * The seed tables come with small lookups over them. Account ids are opaque numeric strings, like
 * Zitadel's user ids, so nothing downstream can get away with treating `sub` as an email.
 */

/** One person (or service account) that can log in. */
export interface SeedAccount {
  /** The OIDC `sub`: opaque and stable. */
  id: string;
  email: string;
  name: string;
  givenName: string;
  familyName: string;
  kind: "user" | "service-account";
}

/** One organization with its projects and members (by email). */
export interface SeedOrganization {
  name: string;
  displayName: string;
  type: "Personal" | "Standard";
  projects: { name: string; displayName: string }[];
  members: string[];
}

/** The service account seeded into acme-corp (its key pair is made at start-up). */
export const SERVICE_ACCOUNT = {
  clientId: "340118447219003597",
  clientEmail: "ci-deployer@acme-corp.iam.datumapis.com",
  name: "CI Deployer",
  privateKeyId: "340118447219069133",
} as const;

/** Everyone who can log in to the local provider. */
export const SEED_ACCOUNTS: SeedAccount[] = [
  {
    id: "340118051620640717",
    email: "alice@example.com",
    name: "Alice Example",
    givenName: "Alice",
    familyName: "Example",
    kind: "user",
  },
  {
    id: "340118051620706253",
    email: "bob@example.com",
    name: "Bob Example",
    givenName: "Bob",
    familyName: "Example",
    kind: "user",
  },
  {
    id: "340118051620771789",
    email: "carol@example.com",
    name: "Carol Example",
    givenName: "Carol",
    familyName: "Example",
    kind: "user",
  },
  {
    id: SERVICE_ACCOUNT.clientId,
    email: SERVICE_ACCOUNT.clientEmail,
    name: SERVICE_ACCOUNT.name,
    givenName: "CI",
    familyName: "Deployer",
    kind: "service-account",
  },
];

/** The organizations, their projects and members. */
export const SEED_ORGANIZATIONS: SeedOrganization[] = [
  {
    name: "acme-corp",
    displayName: "ACME Corp",
    type: "Standard",
    projects: [
      { name: "infra", displayName: "Infra" },
      { name: "web-app", displayName: "Web App" },
      { name: "billing-api", displayName: "Billing API" },
    ],
    members: ["alice@example.com", "bob@example.com", SERVICE_ACCOUNT.clientEmail],
  },
  {
    name: "personal",
    displayName: "Personal",
    type: "Personal",
    projects: [{ name: "sandbox", displayName: "Sandbox" }],
    members: ["alice@example.com"],
  },
];

/** Finds an account by its id or, for typed logins, its email (case-insensitive). */
export function findSeedAccount(idOrEmail: string): SeedAccount | undefined {
  const wanted = idOrEmail.trim().toLowerCase();
  return SEED_ACCOUNTS.find((a) => a.id === wanted || a.email.toLowerCase() === wanted);
}

/**
 * The onboarding gate: before work in an organization or project scope, the
 * organization must have finished onboarding in the portal, else the user gets datumctl's
 * friendly two-line message with a portal link instead of a raw 403 later.
 *
 * The check and the gate are separate (the gate throws the message). The words `get organizations`
 * shows for the status, the portal of the session's environment and the notice for a login that
 * belongs to no organization are decided here too.
 */
import { ApiClient } from "../api/client.ts";
import { apiBaseUrl, RESOURCE_MANAGER_GROUP, userControlPlaneUrl } from "../api/urls.ts";
import { type AuthContext, subjectOf } from "../auth/token-source.ts";
import { portalForHost } from "../auth/endpoints.ts";
import { CliError, ExitCode } from "../core/errors.ts";

/** The outcome of reading an organization's `OnboardingComplete` condition. */
export interface OnboardingState {
  complete: boolean;
  /** The condition's reason; `Unknown` when the organization has no such condition. */
  reason: string;
  message?: string;
  organizationId: string;
  /** The org's display name (annotation), else the id. */
  displayName: string;
}

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

interface OrganizationObject {
  metadata?: { name?: string; annotations?: Record<string, string> };
  status?: { conditions?: Condition[] };
}

/**
 * The portal of the API's environment: Datum production or staging by host suffix;
 * `DATUMCTL_PORTAL_URL` when set; else `api.X` → `https://cloud.X`; else (e.g. the local stack)
 * the API base itself.
 */
export function portalUrl(apiBase: string, env: (name: string) => string | undefined): string {
  const override = env("DATUMCTL_PORTAL_URL")?.trim();
  if (override) return apiBaseUrl(override);
  const url = new URL(apiBaseUrl(apiBase));
  const known = portalForHost(url.host);
  if (known) return known;
  if (url.hostname.startsWith("api.")) return `${url.protocol}//cloud.${url.host.slice(4)}`;
  return url.origin;
}

/** The portal page where an organization finishes onboarding. */
export function organizationPortalLink(portal: string, organizationId: string): string {
  return `${portal}/org/${encodeURIComponent(organizationId)}/projects`;
}

/** Reads `organizations/{org}` on the user control plane and evaluates `OnboardingComplete`. */
export async function readOnboarding(
  auth: AuthContext,
  organizationId: string,
  options: { client?: ApiClient; signal?: AbortSignal } = {},
): Promise<OnboardingState> {
  const base = options.client ?? new ApiClient({ auth, baseUrl: auth.apiBase });
  const userCp = base.withBase(userControlPlaneUrl(auth.apiBase, subjectOf(auth)));
  const org = await userCp.get<OrganizationObject>(
    `/apis/${RESOURCE_MANAGER_GROUP}/v1alpha1/organizations/${encodeURIComponent(organizationId)}`,
    { signal: options.signal },
  );
  const displayName = org.metadata?.annotations?.["kubernetes.io/display-name"]?.trim() ||
    organizationId;
  const condition = org.status?.conditions?.find((c) => c.type === "OnboardingComplete");
  // Absent means unknown (Datum's server does not always report it): only False gates.
  if (!condition) return { complete: true, reason: "Unknown", organizationId, displayName };
  return {
    complete: condition.status !== "False",
    reason: condition.reason || "ContactInfoIncomplete",
    message: condition.message || undefined,
    organizationId,
    displayName,
  };
}

/** The status word for an onboarding reason, as `get organizations` shows it. */
export function onboardingStatusWord(reason: string | undefined): string {
  switch (reason) {
    case "Ready":
      return "ready";
    case "ContactInfoIncomplete":
      return "contact details needed";
    case "BillingAccountMissing":
      return "billing setup needed";
    case "PaymentMethodNotReady":
      return "payment method needed";
    default:
      return "unknown";
  }
}

function incompleteSentence(state: OnboardingState): string {
  const name = state.displayName;
  switch (state.reason) {
    case "ContactInfoIncomplete":
      return `${name} still needs your contact details before you can use datumctl here.`;
    case "BillingAccountMissing":
      return `${name} still needs billing set up before you can use datumctl here.`;
    case "PaymentMethodNotReady":
      return `${name} still needs a payment method on file before you can use datumctl here.`;
    default:
      return `${name} still needs a little setup in the portal before you can use datumctl here.`;
  }
}

/** The two-line error for an organization that has not finished onboarding. */
export function onboardingError(state: OnboardingState, portal: string): CliError {
  return new CliError("ONBOARDING_INCOMPLETE", incompleteSentence(state), {
    hint: `Head to ${organizationPortalLink(portal, state.organizationId)} to finish up.`,
    exitCode: ExitCode.noPermission,
  });
}

/**
 * The gate: resolves when `organizationId` finished onboarding, else throws the friendly
 * two-line error with the portal link of the login's environment.
 */
export async function assertOnboarded(
  auth: AuthContext,
  organizationId: string,
  options: {
    env?: (name: string) => string | undefined;
    client?: ApiClient;
    signal?: AbortSignal;
  } = {},
): Promise<OnboardingState> {
  const state = await readOnboarding(auth, organizationId, options);
  if (!state.complete) {
    throw onboardingError(
      state,
      portalUrl(auth.apiBase, options.env ?? ((name) => Deno.env.get(name))),
    );
  }
  return state;
}

/**
 * What `login` tells a user who belongs to no organization: the login is kept (it is valid, and
 * the organization they create next needs no new sign-in), there is just nothing to pick yet.
 */
export function noOrganizationNotice(
  apiBase: string,
  env: (name: string) => string | undefined,
): { message: string; hint: string } {
  return {
    message:
      "You're signed in, but you don't have an organization yet, so there is no context to pick.",
    hint: `Create one at ${
      portalUrl(apiBase, env)
    }, then run 'datumctl ctx --refresh' and 'datumctl ctx use'.`,
  };
}

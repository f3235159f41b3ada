/**
 * `get organizations` and `get projects` as datumctl shows them.
 *
 * Organizations are the user's OrganizationMemberships on the USER control plane, each with the
 * onboarding status of its organization; projects come from the organization control plane. The
 * words `get` accepts for these two types are decided here too.
 */
import type { ApiClient } from "../api/client.ts";
import { ApiError } from "../api/errors.ts";
import { RESOURCE_MANAGER_GROUP } from "../api/urls.ts";
import { onboardingStatusWord } from "../scope/onboarding.ts";
import type { KubeObject } from "./objects.ts";

/** Words `get` accepts for the organizations view. */
export const ORGANIZATION_WORDS = ["organizations", "organization", "orgs", "org"];
/** Words `get` accepts for projects. */
export const PROJECT_WORDS = ["projects", "project"];

/** Whether a type as typed asks for the organizations view (the user control plane). */
export function isOrganizationsType(type: string): boolean {
  return ORGANIZATION_WORDS.includes(type.trim().toLowerCase());
}

/** Whether a type as typed names projects, which live on the organization control plane. */
export function isProjectsType(type: string): boolean {
  return PROJECT_WORDS.includes(type.trim().toLowerCase());
}

/** One organization the user belongs to, as `get organizations` lists it. */
export interface OrganizationRow {
  id: string;
  displayName: string;
  type?: string;
  /** The onboarding reason (`Ready`, `BillingAccountMissing`, …) or undefined when unreadable. */
  reason?: string;
  /** `ready`, `billing setup needed`, … */
  status: string;
  /** The member: user id and email. */
  user?: string;
  email?: string;
  creationTimestamp?: string;
  /** The OrganizationMembership object itself (for -o json|yaml). */
  membership: KubeObject;
}

interface Membership extends KubeObject {
  spec?: { organizationRef?: { name?: string }; userRef?: { name?: string } };
  status?: {
    organization?: { displayName?: string; type?: string };
    user?: { email?: string };
  };
}

interface OrganizationObject extends KubeObject {
  status?: { conditions?: { type?: string; status?: string; reason?: string }[] };
}

/** Lists the user's OrganizationMemberships (the user control plane). */
export async function listOrganizationMemberships(userPlane: ApiClient): Promise<KubeObject[]> {
  const list = await userPlane.list<KubeObject>(
    `/apis/${RESOURCE_MANAGER_GROUP}/v1alpha1/organizationmemberships`,
  );
  for (const item of list.items) {
    item.apiVersion ??= `${RESOURCE_MANAGER_GROUP}/v1alpha1`;
    item.kind ??= "OrganizationMembership";
  }
  return list.items;
}

async function onboardingReason(userPlane: ApiClient, orgId: string): Promise<string | undefined> {
  try {
    const org = await userPlane.get<OrganizationObject>(
      `/apis/${RESOURCE_MANAGER_GROUP}/v1alpha1/organizations/${encodeURIComponent(orgId)}`,
    );
    const condition = org.status?.conditions?.find((c) => c.type === "OnboardingComplete");
    // Datum's server does not always report onboarding (only `Ready` is defaulted): absent is
    // not "incomplete" (the onboarding gate lets it through), so show the org's Ready state.
    if (!condition) {
      const ready = org.status?.conditions?.find((c) => c.type === "Ready");
      return ready?.status === "True" ? "Ready" : "Unknown";
    }
    if (condition.reason === "Ready" && condition.status !== "True") return "Unknown";
    return condition.reason || "ContactInfoIncomplete";
  } catch (err) {
    // One unreadable organization shows as `unknown`; it must not hide the others.
    if (err instanceof ApiError && err.httpStatus > 0 && err.httpStatus < 500) return undefined;
    throw err;
  }
}

/**
 * The rows of `get organizations`, sorted by id: each membership with its organization's
 * onboarding status (the organizations are read in parallel).
 */
export async function organizationRows(
  userPlane: ApiClient,
  names: string[] = [],
): Promise<OrganizationRow[]> {
  const memberships = (await listOrganizationMemberships(userPlane)) as Membership[];
  const rows = await Promise.all(memberships.map(async (m) => {
    const id = m.spec?.organizationRef?.name ?? m.metadata?.name ?? "";
    const reason = await onboardingReason(userPlane, id);
    return {
      id,
      displayName: m.status?.organization?.displayName || id,
      type: m.status?.organization?.type,
      reason,
      status: onboardingStatusWord(reason),
      user: m.spec?.userRef?.name,
      email: m.status?.user?.email,
      creationTimestamp: m.metadata?.creationTimestamp,
      membership: m,
    } satisfies OrganizationRow;
  }));
  rows.sort((a, b) => a.id.localeCompare(b.id));
  if (names.length === 0) return rows;
  return names.map((name) => {
    const row = rows.find((r) => r.id === name);
    if (!row) {
      throw new ApiError("NOT_FOUND", `organization "${name}" not found among your memberships`, {
        httpStatus: 404,
        reason: "NotFound",
        hint: "Run 'datumctl get organizations' to list yours.",
        exitCode: 1,
        retryable: false,
      });
    }
    return row;
  });
}

/**
 * A project's display name: annotation `kubernetes.io/display-name`, then
 * `kubernetes.io/description`, then the id.
 */
export function projectDisplayNameOf(project: KubeObject | undefined): string {
  const annotations = project?.metadata?.annotations ?? {};
  return annotations["kubernetes.io/display-name"]?.trim() ||
    annotations["kubernetes.io/description"]?.trim() || project?.metadata?.name || "";
}

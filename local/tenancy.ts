/**
 * Who belongs where: the seed users, organizations, memberships and projects written into the
 * store, and the lookups the emulator authorises with (membership of an org, the org owning a
 * project). Also the onboarding switch of an organization.
 */

import { SEED_ACCOUNTS, SEED_ORGANIZATIONS, type SeedAccount } from "./seed.ts";
import type { ResourceRegistry, ResourceType } from "./resources.ts";
import type { KubeObject, ObjectStore } from "./store.ts";

const RM = "resourcemanager.miloapis.com";

/** Reasons of the `OnboardingComplete` condition. */
export const ONBOARDING_REASONS = [
  "Ready",
  "ContactInfoIncomplete",
  "BillingAccountMissing",
  "PaymentMethodNotReady",
] as const;

/** Plane key of a user's control plane. */
export const userPlane = (sub: string) => `user/${sub}`;
/** Plane key of an organization's control plane. */
export const orgPlane = (org: string) => `org/${org}`;
/** Plane key of a project's control plane. */
export const projectPlane = (project: string) => `project/${project}`;

/** Memberships and projects over the object store. */
export class Tenancy {
  #seededProjects = new Set<string>();

  constructor(private store: ObjectStore, private registry: ResourceRegistry) {}

  #type(group: string, plural: string): ResourceType {
    const type = this.registry.byPlural(group, plural);
    if (!type) throw new Error(`kind ${plural}.${group} is not registered`);
    return type;
  }

  get organizations() {
    return this.#type(RM, "organizations");
  }
  get memberships() {
    return this.#type(RM, "organizationmemberships");
  }
  get projects() {
    return this.#type(RM, "projects");
  }
  get users() {
    return this.#type("iam.miloapis.com", "users");
  }
  get namespaces() {
    return this.#type("", "namespaces");
  }

  /** Writes the seed data; call once on an empty store. */
  seed(): void {
    const readyCondition = (type: string, reason: string, message: string) => ({
      type,
      status: "True",
      reason,
      message,
      lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      observedGeneration: 1,
    });
    for (const account of SEED_ACCOUNTS) {
      this.store.upsert("platform", this.users, {
        metadata: { name: account.id },
        spec: {
          email: account.email,
          givenName: account.givenName,
          familyName: account.familyName,
        },
        status: {
          state: "Active",
          registrationApproval: "Approved",
          conditions: [readyCondition("Ready", "Ready", "User is ready")],
        },
      });
      this.#namespace(userPlane(account.id), "default");
    }
    for (const org of SEED_ORGANIZATIONS) {
      this.store.upsert("platform", this.organizations, {
        metadata: {
          name: org.name,
          annotations: { "kubernetes.io/display-name": org.displayName },
        },
        spec: { type: org.type },
        status: {
          observedGeneration: 1,
          // Only Ready, as Datum's server defaults it: it reports no `OnboardingComplete` at
          // this version. Tests set that condition through the admin route when they need it.
          conditions: [readyCondition("Ready", "Ready", "Organization is ready")],
        },
      });
      this.#namespace(orgPlane(org.name), "default");
      for (const project of org.projects) {
        this.store.upsert(orgPlane(org.name), this.projects, {
          metadata: {
            name: project.name,
            annotations: { "kubernetes.io/display-name": project.displayName },
          },
          spec: { ownerRef: { kind: "Organization", name: org.name } },
          status: { conditions: [readyCondition("Ready", "Ready", "Project is ready")] },
        });
        this.ensureProjectPlane(project.name);
      }
      for (const email of org.members) {
        const account = SEED_ACCOUNTS.find((a) => a.email === email)!;
        this.#namespace(userPlane(account.id), `organization-${org.name}`);
        this.store.upsert(userPlane(account.id), this.memberships, {
          metadata: {
            name: `member-${account.id}`,
            namespace: `organization-${org.name}`,
          },
          spec: {
            organizationRef: { name: org.name },
            userRef: { name: account.id },
            roles: [{ name: "owner", namespace: `organization-${org.name}` }],
          },
          status: {
            observedGeneration: 1,
            organization: { displayName: org.displayName, type: org.type },
            user: {
              email: account.email,
              givenName: account.givenName,
              familyName: account.familyName,
            },
            conditions: [readyCondition("Ready", "Ready", "Membership is ready")],
          },
        });
      }
    }
  }

  #namespace(plane: string, name: string) {
    if (this.store.get(plane, this.namespaces, undefined, name)) return;
    this.store.upsert(plane, this.namespaces, {
      metadata: { name, labels: { "kubernetes.io/metadata.name": name } },
      spec: { finalizers: ["kubernetes"] },
      status: { phase: "Active" },
    });
  }

  /** Makes sure a project's control plane has its namespace and the default ConnectorClass. */
  ensureProjectPlane(project: string): void {
    if (this.#seededProjects.has(project)) return;
    this.#seededProjects.add(project);
    const plane = projectPlane(project);
    this.#namespace(plane, "default");
    const classes = this.registry.byPlural("networking.datumapis.com", "connectorclasses");
    if (classes && !this.store.get(plane, classes, undefined, "datum-connect")) {
      this.store.upsert(plane, classes, {
        metadata: { name: "datum-connect" },
        spec: { controllerName: "networking.datumapis.com/datum-connect" },
      });
    }
  }

  /** True when the account is a member of the organization. */
  isMember(account: SeedAccount, org: string): boolean {
    return this.store.list(userPlane(account.id), this.memberships).some((m) =>
      (m.spec as { organizationRef?: { name?: string } })?.organizationRef?.name === org
    );
  }

  /** The organization owning a project, or undefined when no organization has it. */
  organizationOf(project: string): string | undefined {
    for (const org of this.store.list("platform", this.organizations)) {
      if (this.store.get(orgPlane(org.metadata.name), this.projects, undefined, project)) {
        return org.metadata.name;
      }
    }
    return undefined;
  }

  /** The organization object, or undefined. */
  organization(org: string): KubeObject | undefined {
    return this.store.get("platform", this.organizations, undefined, org);
  }

  /**
   * Sets the `OnboardingComplete` condition of an organization (Ready = complete); null removes
   * it again (the seed has none, as Datum's server reports none at this version).
   */
  setOnboarding(org: string, reason: string | null): KubeObject {
    if (!this.organization(org)) throw new RangeError(`no organization ${org}`);
    const messages: Record<string, string> = {
      Ready: "Onboarding is complete",
      ContactInfoIncomplete: "Contact information is incomplete",
      BillingAccountMissing: "A billing account is required",
      PaymentMethodNotReady: "A payment method is required",
    };
    return this.store.writeStatus("platform", this.organizations, undefined, org, (obj) => {
      const status = (obj.status ??= {}) as { conditions?: Record<string, unknown>[] };
      const conditions = (status.conditions ??= []).filter((c) => c.type !== "OnboardingComplete");
      status.conditions = conditions;
      if (reason === null) return;
      conditions.push({
        type: "OnboardingComplete",
        status: reason === "Ready" ? "True" : "False",
        reason,
        message: messages[reason] ?? reason,
        lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
        observedGeneration: obj.metadata.generation,
      });
      status.conditions = conditions;
    })!;
  }
}

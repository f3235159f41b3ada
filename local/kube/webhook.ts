/**
 * The authentication and authorization webhooks the real API servers delegate to, the way
 * Datum's control plane authenticates: `TokenReview` (authentication.k8s.io/v1) checks the
 * provider's access tokens, `SubjectAccessReview` (authorization.k8s.io/v1) applies the
 * stack's membership rules for the plane the asking server serves (its kubeconfig names the
 * plane in the URL path: `/planes/<plane key>/…`, e.g. `/planes/project/infra/…`).
 */

import type { TokenIdentity } from "../provider.ts";
import type { ResourceRegistry } from "../resources.ts";
import { SEED_ACCOUNTS } from "../seed.ts";
import type { Tenancy } from "../tenancy.ts";

/** The identity the stack's own controllers use: allowed everything. */
export interface ControllerIdentity {
  token: string;
  username: string;
}

/** A running webhook server. */
export interface Webhook {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  close(): Promise<void>;
}

/** Options for {@link startWebhook}. */
export interface WebhookOptions {
  verifyToken(token: string): Promise<TokenIdentity | undefined>;
  controller: ControllerIdentity;
  tenancy: Tenancy;
  registry: ResourceRegistry;
}

const CONTROLLER_GROUP = "system:masters";
const READ_VERBS = new Set(["get", "list", "watch"]);

interface ReviewSpec {
  user?: string;
  uid?: string;
  groups?: string[];
  resourceAttributes?: { verb?: string; group?: string; resource?: string };
  nonResourceAttributes?: { path?: string; verb?: string };
}

/** Whether a subject may do what it asks on a plane, and why not. */
function decide(
  opts: WebhookOptions,
  plane: string,
  spec: ReviewSpec,
): { allowed: boolean; reason?: string } {
  if (spec.groups?.includes(CONTROLLER_GROUP)) return { allowed: true };
  const account = SEED_ACCOUNTS.find((a) => a.id === spec.uid);
  if (!account) return { allowed: false };
  if (spec.nonResourceAttributes) return { allowed: true };
  const [kind, id] = [plane.slice(0, plane.indexOf("/")), plane.slice(plane.indexOf("/") + 1)];
  const { tenancy } = opts;
  const member = kind === "user"
    ? id === account.id
    : kind === "org"
    ? tenancy.isMember(account, id)
    : kind === "project"
    ? (() => {
      // Datum serves any project id: one no organization owns is an empty plane for anyone.
      const org = tenancy.organizationOf(id);
      return !org || tenancy.isMember(account, org);
    })()
    : false;
  if (!member) return { allowed: false, reason: `not a member of ${plane}` };
  const attrs = spec.resourceAttributes ?? {};
  const verb = attrs.verb ?? "";
  if (attrs.group === "apiextensions.k8s.io") return { allowed: false };
  const type = opts.registry.byPlural(attrs.group ?? "", attrs.resource ?? "");
  if (type?.readOnly && !READ_VERBS.has(verb)) return { allowed: false };
  return { allowed: true };
}

/** Starts the webhook server on 127.0.0.1 (plain HTTP: loopback only). */
export function startWebhook(opts: WebhookOptions): Webhook {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    const m = path.match(
      /^\/planes\/([a-z]+\/[^/]+)\/apis\/(authentication|authorization)\.k8s\.io\/v1\/(tokenreviews|subjectaccessreviews)$/,
    );
    if (!m || req.method !== "POST") {
      return new Response("404 page not found", {
        status: 404,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }
    const plane = decodeURIComponent(m[1]);
    const review = await req.json() as { apiVersion?: string; spec?: Record<string, unknown> };
    const head = { apiVersion: review.apiVersion, kind: "" };
    if (m[3] === "tokenreviews") {
      const token = String(review.spec?.token ?? "");
      head.kind = "TokenReview";
      if (token && token === opts.controller.token) {
        return Response.json({
          ...head,
          status: {
            authenticated: true,
            user: { username: opts.controller.username, groups: [CONTROLLER_GROUP] },
          },
        });
      }
      const identity = token ? await opts.verifyToken(token) : undefined;
      if (!identity) return Response.json({ ...head, status: { authenticated: false } });
      const { account } = identity;
      return Response.json({
        ...head,
        status: {
          authenticated: true,
          user: {
            username: account.email,
            uid: account.id,
            groups: ["system:authenticated"],
            extra: { "iam.miloapis.com/account-kind": [account.kind] },
          },
        },
      });
    }
    head.kind = "SubjectAccessReview";
    return Response.json({
      ...head,
      status: decide(opts, plane, (review.spec ?? {}) as ReviewSpec),
    });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    close: () => server.shutdown(),
  };
}

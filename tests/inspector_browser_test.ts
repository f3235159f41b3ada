/// <reference lib="dom" />
/**
 * The request inspector's page in a real browser: Debian's Chromium, headless, driven over the
 * DevTools protocol by puppeteer-core. Requests sent through the local stack's gateway fill the
 * list live, the filter narrows it, the detail view shows the bodies (JSON pretty-printed),
 * Replay reaches the origin and lists the replay, and "copy as curl" shows the command.
 *
 * The run writes a screenshot under a temp folder; with DATUMCTL_UPDATE_SCREENSHOT=1 it also
 * writes docs/inspector.png (the README's picture). Chromium: `apt-get install chromium`, or
 * point DATUMCTL_CHROMIUM at another build.
 */
import assert from "node:assert/strict";
import puppeteer from "puppeteer-core";
import { startStack } from "./support/stack.ts";
import { loginHome, startListener, tunnelEnv } from "./support/tunnel.ts";
import { inspectorUrlFrom, startRecordingOrigin, visit } from "./support/inspector.ts";

const CHROMIUM = Deno.env.get("DATUMCTL_CHROMIUM") ?? "/usr/bin/chromium";

Deno.test({
  name: "the inspector page: live list, filter, detail, replay and curl in Chromium",
  // puppeteer keeps sockets and timers of its own after close.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const stack = await startStack({ autoApprove: "alice@example.com" });
    const origin = startRecordingOrigin();
    const home = await loginHome(stack, "alice@example.com");
    assert.ok(stack.gateway, "the local stack has a gateway");
    const gateway = stack.gateway;
    const listener = startListener(
      home,
      [String(origin.port), "--inspect", "-o", "json"],
      tunnelEnv(stack),
    );
    const profile = await Deno.makeTempDir({ prefix: "datumctl-chromium-" });
    const shots = await Deno.makeTempDir({ prefix: "datumctl-inspector-shot-" });
    let browser: Awaited<ReturnType<typeof puppeteer.launch>> | undefined;
    try {
      const ready = await listener.waitForEvent((e) => e.type === "ready");
      const hostname: string = ready.hostnames[0];
      const url = inspectorUrlFrom(listener.stderr());
      assert.ok(url, listener.stderr());

      browser = await puppeteer.launch({
        executablePath: CHROMIUM,
        headless: true,
        pipe: false,
        userDataDir: profile,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          `--user-data-dir=${profile}`,
        ],
      });
      const page = await browser.newPage();
      await page.setViewport({ width: 1360, height: 820 });
      // Rows are redrawn as requests change, so a row is found and clicked in one go.
      const clickRow = (path: string) =>
        page.evaluate((wanted) => {
          const row = [...document.querySelectorAll<HTMLElement>("[data-testid=row]")].find((tr) =>
            tr.querySelector("td.path")?.textContent === wanted
          );
          row?.click();
          return !!row;
        }, path);
      const pageErrors: string[] = [];
      page.on("pageerror", (err) => pageErrors.push(String(err)));

      await t.step("the printed URL opens the page, which goes live", async () => {
        await page.goto(url.href, { waitUntil: "domcontentloaded" });
        assert.equal(new URL(page.url()).search, "", "the token left the address bar");
        await page.waitForFunction(
          () => document.querySelector("[data-testid=connection]")?.textContent === "live",
          { timeout: 10_000 },
        );
      });

      const payload = JSON.stringify({ hello: "world", items: [1, 2, 3] });
      await t.step("requests through the gateway fill the list live", async () => {
        await visit(gateway, hostname, "/submit?x=1", {
          method: "POST",
          headers: { "content-type": "application/json", authorization: "Bearer hidden" },
          body: payload,
        });
        await visit(gateway, hostname, "/big");
        await visit(gateway, hostname, "/hello");
        await page.waitForFunction(
          () => {
            const paths = [...document.querySelectorAll("[data-testid=row] td.path")].map((td) =>
              td.textContent
            );
            return ["/submit?x=1", "/big", "/hello"].every((p) => paths.includes(p));
          },
          { timeout: 10_000 },
        );
      });

      await t.step("the filters narrow the list", async () => {
        await page.type("[data-testid=filter-path]", "big");
        const paths = await page.$$eval(
          "[data-testid=row] td.path",
          (tds) => tds.map((td) => td.textContent),
        );
        assert.deepEqual(paths, ["/big"]);
        await page.$eval("[data-testid=filter-path]", (input) => {
          (input as HTMLInputElement).value = "";
          input.dispatchEvent(new Event("input"));
        });
        await page.select("[data-testid=filter-method]", "POST");
        const methods = await page.$$eval(
          "[data-testid=row] td.method",
          (tds) => tds.map((td) => td.textContent),
        );
        assert.deepEqual(methods, ["POST"]);
        await page.select("[data-testid=filter-method]", "");
      });

      await t.step("the detail view shows headers and bodies", async () => {
        assert.ok(await clickRow("/submit?x=1"));
        await page.waitForFunction(
          () =>
            document.querySelector("[data-testid=detail-title]")?.textContent ===
              "POST /submit?x=1",
          { timeout: 10_000 },
        );
        const requestBody = await page.$eval(
          "[data-testid=request-body] pre",
          (p) => p.textContent,
        );
        assert.equal(requestBody, JSON.stringify(JSON.parse(payload), null, 2), "pretty JSON");
        const responseBody = await page.$eval(
          "[data-testid=response-body] pre",
          (p) => p.textContent,
        );
        assert.match(responseBody ?? "", /"ok": true/);
        const masked = await page.$$eval(
          "[data-testid=request-headers] tr",
          (trs) => trs.map((tr) => tr.textContent),
        );
        assert.ok(masked.includes("authorization[masked]"), masked.join("\n"));
      });

      await t.step("copy as curl shows the command", async () => {
        await page.click("[data-testid=curl]");
        await page.waitForSelector("[data-testid=curl-text]:not([hidden])");
        const curl = await page.$eval("[data-testid=curl-text]", (p) => p.textContent);
        assert.match(
          curl ?? "",
          new RegExp(`^curl -X POST 'http://localhost:${origin.port}/submit\\?x=1'`),
        );
        assert.ok(curl?.includes(`--data-binary '${payload}'`), curl ?? "");
      });

      await t.step("Replay reaches the origin and the replay is listed", async () => {
        const before = origin.seen.length;
        await page.click("[data-testid=replay]");
        await page.waitForFunction(
          () =>
            /^Replayed as #\d+: status 200$/.test(
              document.querySelector("[data-testid=notice]")?.textContent ?? "",
            ),
          { timeout: 10_000 },
        );
        assert.equal(origin.seen.length, before + 1);
        assert.equal(origin.seen.at(-1)!.body, payload);
        await page.waitForFunction(
          () =>
            [...document.querySelectorAll("[data-testid=row] .badge")].some((b) =>
              /^replay of #\d+$/.test(b.textContent ?? "")
            ),
          { timeout: 10_000 },
        );
        const meta = await page.$eval("[data-testid=detail-meta]", (p) => p.textContent);
        assert.match(meta ?? "", /replay of #\d+/);
      });

      await t.step("Edit & replay sends the edited request", async () => {
        assert.ok(await clickRow("/submit?x=1"));
        await page.waitForFunction(
          () =>
            !document.querySelector("[data-testid=detail-meta]")?.textContent?.includes(
              "replay of",
            ),
        );
        // Shown only on demand (what the user sees, not just the attribute).
        const display = () =>
          page.$eval("[data-testid=editor]", (f) => getComputedStyle(f).display);
        assert.equal(await display(), "none");
        await page.click("[data-testid=edit]");
        assert.notEqual(await display(), "none");
        assert.equal(
          await page.$eval("[data-testid=edit-path]", (i) => (i as HTMLInputElement).value),
          "/submit?x=1",
        );
        await page.$eval(
          "[data-testid=edit-path]",
          (i) => ((i as HTMLInputElement).value = "/edited"),
        );
        await page.$eval(
          "[data-testid=edit-body]",
          (i) => ((i as HTMLTextAreaElement).value = "new body"),
        );
        await page.click("[data-testid=edit-send]");
        await page.waitForFunction(
          () =>
            /^Replayed as #\d+/.test(
              document.querySelector("[data-testid=notice]")?.textContent ?? "",
            ),
          { timeout: 10_000 },
        );
        const hit = origin.seen.at(-1)!;
        assert.deepEqual([hit.method, hit.path, hit.body], ["POST", "/edited", "new body"]);
        assert.equal(
          hit.headers.get("authorization"),
          "Bearer hidden",
          "the masked secret is replayed",
        );
      });

      await t.step("a screenshot of the page is written", async () => {
        // Show the original request, the way the README pictures it.
        assert.ok(await clickRow("/submit?x=1"));
        await page.waitForFunction(
          () =>
            !document.querySelector("[data-testid=detail-meta]")?.textContent?.includes(
              "replay of",
            ),
        );
        const file = `${shots}/inspector.png`;
        await page.screenshot({ path: file });
        const bytes = await Deno.readFile(file);
        assert.ok(bytes.length > 10_000, `a real picture (${bytes.length} bytes)`);
        assert.deepEqual([...bytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], "a PNG");
        if (Deno.env.get("DATUMCTL_UPDATE_SCREENSHOT") === "1") {
          await Deno.writeFile(new URL("../docs/inspector.png", import.meta.url), bytes);
        }
        console.log(`screenshot: ${file}`);
      });
      assert.deepEqual(pageErrors, [], "the page ran without script errors");
    } finally {
      await browser?.close().catch(() => {});
      listener.signal("SIGINT");
      await listener.exited().catch(() => {});
      await origin.close();
      await stack.stop();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  },
});

import assert from "node:assert/strict";
import { Command } from "commander";
import { completeWords } from "./completion.ts";

function sample(): Command {
  const root = new Command("datumctl").option("--context <name>", "context");
  root.command("apply").option("-f, --filename <file>", "manifest").option("--dry-run", "no-op");
  const tunnel = root.command("tunnel");
  tunnel.command("delete").option("--id <id>", "tunnel id");
  tunnel.command("self-test", { hidden: true });
  const ctx = root.command("ctx");
  ctx.command("use").argument("[ref]", "context name");
  return root;
}

const VALUES = {
  contexts: [{ value: "s/acme" }, { value: "s/acme/infra" }],
  tunnelIds: [{ value: "tunnel-abc", description: "web" }],
};

Deno.test("a flag that takes a file lets the shell offer file names", async () => {
  const answer = await completeWords(sample(), ["apply", "--filename", ""], VALUES);
  assert.equal(answer, ":0\n");
  assert.equal(await completeWords(sample(), ["apply", "-f", ""], VALUES), ":0\n");
  assert.equal(await completeWords(sample(), ["apply", "--filename="], VALUES), ":0\n");
  const boolean = await completeWords(sample(), ["apply", "--dry-run", ""], VALUES);
  assert.match(boolean, /:4\n$/);
});

Deno.test("tunnel --id offers local tunnel ids; ctx use offers contexts", async () => {
  const ids = await completeWords(sample(), ["tunnel", "delete", "--id", ""], VALUES);
  assert.equal(ids, "tunnel-abc\tweb\n:4\n");
  const refs = await completeWords(sample(), ["ctx", "use", "s/acme/"], VALUES);
  assert.equal(refs, "s/acme/infra\t\n:4\n");
});

Deno.test("hidden commands are not offered", async () => {
  const answer = await completeWords(sample(), ["tunnel", ""], VALUES);
  assert.equal(answer, "delete\t\nhelp\tdisplay help for command\n:4\n");
});

const [mode, ...urls] = Deno.args; const tok = Deno.env.get("BENCH_TOKEN");
if (mode === "mods") {
  await import("./commands/resources/get.ts");
  await Promise.all([import("./lib/resources/open.ts"), import("./lib/auth/resolve.ts"), import("./lib/resources/read.ts")]);
}
let t = performance.now(); const out: string[] = [];
for (const url of urls) {
  const headers = new Headers({ accept: "application/json" });
  headers.set("authorization", "Bearer " + tok);
  const res = await fetch(url, { method: "GET", headers });
  await res.arrayBuffer(); out.push(`${(performance.now()-t).toFixed(1)}`); t = performance.now();
}
console.log(mode, out.join(" "));
